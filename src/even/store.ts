import { type Generated, type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../platform/db/database.js';
import { formatTimestamp } from '../platform/db/timestamps.js';
import type { AccessRequest, AccessRequestQuery, AccessRequestStatus } from './contract.js';

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
  now: Date;
}

/** Access requests and their status history; the only module that touches even's table. */
export class AccessRequestStore {
  readonly #db: Kysely<EvenTables>;
  constructor(database: Database) {
    this.#db = database.kysely<EvenTables>();
  }

  async insert(request: NewAccessRequest): Promise<AccessRequest> {
    const row = await this.#db
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
        last_modified: request.now,
        last_modified_by: request.actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAccessRequest(row);
  }

  /** Moves a request to a new status; `from` guards against racing transitions. */
  async transition(
    id: number,
    change: {
      from: readonly AccessRequestStatus[];
      to: AccessRequestStatus;
      reason: string | null;
      actor: string;
      now: Date;
      expiresAt?: Date | null;
    },
  ): Promise<AccessRequest | undefined> {
    const row = await this.#db
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
  }

  async get(id: number): Promise<AccessRequest | undefined> {
    const row = await this.#db
      .selectFrom('even_access_requests')
      .selectAll()
      .where('id', '=', String(id))
      .executeTakeFirst();
    return row && toAccessRequest(row);
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

  /**
   * Claims every grant that has run out by marking it EXPIRED in one statement, so that of
   * several replicas running the job exactly one handles each grant.
   */
  async claimExpired(now: Date, actor: string): Promise<AccessRequest[]> {
    const rows = await this.#db
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

  async setStatusReason(id: number, reason: string): Promise<void> {
    await this.#db
      .updateTable('even_access_requests')
      .set({ status_reason: reason })
      .where('id', '=', String(id))
      .execute();
  }
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
