import type { AuditTransaction } from '../platform/audit/create-audit.js';
import { type Generated, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../platform/db/database.js';
import { formatTimestamp } from '../platform/db/timestamps.js';
import type { AccessGrant, AccessRequest, AccessRequestQuery, AccessRequestStatus } from './contract.js';

interface AccessRequestsTable {
  id: Generated<string>;
  username: string;
  hostname: string;
  reason: string;
  remote_host: string | null;
  status: AccessRequestStatus;
  status_reason: string | null;
  lifetime_minutes: number;
  expires_at: Date | null;
  created: Date;
  created_by: string;
  /** Null for requests stored before the realm was recorded. */
  created_by_realm: string | null;
  last_modified: Date;
  last_modified_by: string;
}

interface EvenTables {
  even_access_requests: AccessRequestsTable;
}

type Row = Selectable<AccessRequestsTable>;

export interface NewAccessRequest {
  username: string;
  hostname: string;
  reason: string;
  remoteHost: string | null;
  lifetimeMinutes: number;
  status: AccessRequestStatus;
  statusReason: string | null;
  actor: string;
  actorRealm: string;
  now: Date;
}

export interface StatusChange {
  from: readonly AccessRequestStatus[];
  to: AccessRequestStatus;
  reason: string | null;
  actor: string;
  now: Date;
  expiresAt?: Date | null;
}

/** The writes of one transaction; its audit event goes through `executor` and commits with them. */
export interface AccessRequestWriteTransaction {
  readonly executor: AuditTransaction;
  insert(request: NewAccessRequest): Promise<AccessRequest>;
  /** Moves a request to a new status; `from` guards against racing transitions. */
  transition(id: number, change: StatusChange): Promise<AccessRequest | undefined>;
  /** Claims every grant that has run out by marking it EXPIRED in one statement. */
  claimExpired(now: Date, actor: string): Promise<AccessRequest[]>;
  setStatusReason(id: number, reason: string): Promise<void>;
}

/** Access requests and their status history; the only module that touches even's table. */
export class AccessRequestStore {
  readonly #db: Kysely<EvenTables>;
  constructor(database: Database) {
    this.#db = database.kysely<EvenTables>();
  }

  async get(id: number): Promise<AccessRequest | undefined> {
    const row = await this.#db
      .selectFrom('even_access_requests')
      .selectAll()
      .where('id', '=', String(id))
      .executeTakeFirst();
    return row && toAccessRequest(row);
  }

  /** Who created a request; `realm` is null for requests stored before it was recorded. */
  async creatorOf(id: number): Promise<{ uid: string; realm: string | null } | undefined> {
    const row = await this.#db
      .selectFrom('even_access_requests')
      .select(['created_by', 'created_by_realm'])
      .where('id', '=', String(id))
      .executeTakeFirst();
    return row && { uid: row.created_by, realm: row.created_by_realm };
  }

  /** Newest first. */
  async list(query: AccessRequestQuery): Promise<AccessRequest[]> {
    let q = this.#db.selectFrom('even_access_requests').selectAll();
    if (query.username) q = q.where('username', '=', query.username);
    if (query.hostname) q = q.where('hostname', '=', query.hostname);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.from) q = q.where('created', '>=', query.from);
    if (query.to) q = q.where('created', '<', query.to);
    const rows = await q
      .orderBy('created', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit)
      .offset(query.offset)
      .execute();
    return rows.map(toAccessRequest);
  }

  /** The latest expiry among live grants of a user on a bastion (another grant may outlast one). */
  async liveUntil(username: string, hostname: string, now: Date): Promise<Date | undefined> {
    const row = await this.#db
      .selectFrom('even_access_requests')
      .select(sql<Date | null>`max(expires_at)`.as('until'))
      .where('status', '=', 'GRANTED')
      .where('username', '=', username)
      .where('hostname', '=', hostname)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.until ? new Date(row.until) : undefined;
  }

  /**
   * Grants (live, expired or revoked) of a user covering one of `hosts` and overlapping
   * [from, to]. A grant starts `lifetime_minutes` before its expiry (granting sets both at once)
   * and a revoked one ends when it was revoked.
   */
  async grantsBetween(
    username: string,
    hosts: readonly string[],
    from: Date,
    to: Date,
  ): Promise<AccessGrant[]> {
    if (hosts.length === 0) return [];
    const rows = await this.#db
      .selectFrom('even_access_requests')
      .selectAll()
      .where('username', '=', username)
      .where('status', 'in', ['GRANTED', 'EXPIRED', 'REVOKED'])
      .where('expires_at', 'is not', null)
      // A grant lets the user onto the bastion and, with a remote host, onto that host too.
      .where((eb) => eb.or([eb('remote_host', 'in', [...hosts]), eb('hostname', 'in', [...hosts])]))
      // Cheap bound first: grants that expired before `from` cannot overlap.
      .where('expires_at', '>=', from)
      .orderBy('id')
      .execute();
    return rows.flatMap((row) => {
      const expires = new Date(row.expires_at as Date);
      const start = new Date(expires.getTime() - row.lifetime_minutes * 60_000);
      const revoked = row.status === 'REVOKED' ? new Date(row.last_modified) : undefined;
      const end = revoked && revoked < expires ? revoked : expires;
      if (start > to || end < from) return [];
      return [
        {
          id: Number(row.id),
          username: row.username,
          hostname: row.hostname,
          remote_host: row.remote_host,
          granted_at: formatTimestamp(start),
          ends_at: formatTimestamp(end),
          status: row.status,
        },
      ];
    });
  }

  async write<T>(body: (tx: AccessRequestWriteTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => body(writeTransaction(trx)));
  }
}

function writeTransaction(trx: Transaction<EvenTables>): AccessRequestWriteTransaction {
  return {
    executor: trx,
    async insert(request) {
      const row = await trx
        .insertInto('even_access_requests')
        .values({
          username: request.username,
          hostname: request.hostname,
          reason: request.reason,
          remote_host: request.remoteHost,
          status: request.status,
          status_reason: request.statusReason,
          lifetime_minutes: request.lifetimeMinutes,
          expires_at: null,
          created: request.now,
          created_by: request.actor,
          created_by_realm: request.actorRealm,
          last_modified: request.now,
          last_modified_by: request.actor,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAccessRequest(row);
    },
    async transition(id, change) {
      const row = await trx
        .updateTable('even_access_requests')
        .set({
          status: change.to,
          status_reason: change.reason,
          last_modified: change.now,
          last_modified_by: change.actor,
          ...(change.expiresAt === undefined ? {} : { expires_at: change.expiresAt }),
        })
        .where('id', '=', String(id))
        .where('status', 'in', change.from)
        .returningAll()
        .executeTakeFirst();
      return row && toAccessRequest(row);
    },
    // One statement, so that of several replicas running the job exactly one handles each grant.
    async claimExpired(now, actor) {
      const rows = await trx
        .updateTable('even_access_requests')
        .set({
          status: 'EXPIRED',
          status_reason: 'the grant ran out',
          last_modified: now,
          last_modified_by: actor,
        })
        .where('status', '=', 'GRANTED')
        .where('expires_at', '<=', now)
        .returningAll()
        .execute();
      return rows.map(toAccessRequest);
    },
    async setStatusReason(id, reason) {
      await trx
        .updateTable('even_access_requests')
        .set({ status_reason: reason })
        .where('id', '=', String(id))
        .execute();
    },
  };
}

function toAccessRequest(row: Row): AccessRequest {
  return {
    id: Number(row.id),
    username: row.username,
    hostname: row.hostname,
    reason: row.reason,
    remote_host: row.remote_host,
    status: row.status,
    status_reason: row.status_reason,
    lifetime_minutes: row.lifetime_minutes,
    expires_at: row.expires_at ? formatTimestamp(row.expires_at) : null,
    created: formatTimestamp(row.created),
    created_by: row.created_by,
    last_modified: formatTimestamp(row.last_modified),
    last_modified_by: row.last_modified_by,
  };
}
