import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';
import type { AuditTransaction } from '../../platform/audit/create-audit.js';

/**
 * A request for a role in an account that needs a second approver. The stored state is what a
 * person decided; `expired` is never stored but read off `expires_at` (a pending request lapses,
 * an approval holds for its window), so no job has to walk the table for it to be true.
 */
export interface AccessRequestsTable {
  id: string;
  uid: string;
  account_id: string;
  role_name: string;
  role_arn: string;
  /** The owning team at the time of the request: whose members may approve. Null: only admins. */
  team: string | null;
  reason: string;
  state: 'pending' | 'approved' | 'rejected';
  created_at: Date;
  /** Pending: when the request lapses. Approved: end of the approval window. */
  expires_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  comment: string | null;
}

export interface AccessRequestTables {
  token_aws_access_requests: AccessRequestsTable;
}

export type AccessRequestRow = AccessRequestsTable;
export type AccessRequestState = 'pending' | 'approved' | 'rejected' | 'expired';

/** Migration `010-aws-access-requests` of the token service (listed in ../migrations.ts). */
export const awsAccessRequestsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('token_aws_access_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('uid', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('role_name', 'text', (c) => c.notNull())
      .addColumn('role_arn', 'text', (c) => c.notNull())
      .addColumn('team', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('decided_by', 'text')
      .addColumn('decided_at', 'timestamptz')
      .addColumn('comment', 'text')
      .execute();
    // The gate asks "an approved, unexpired request of this person for this role?" on every login.
    await db.schema
      .createIndex('token_aws_access_requests_requester')
      .on('token_aws_access_requests')
      .columns(['uid', 'role_arn', 'state'])
      .execute();
    await db.schema
      .createIndex('token_aws_access_requests_state')
      .on('token_aws_access_requests')
      .columns(['state', 'expires_at'])
      .execute();
  },
};

export interface NewAccessRequest {
  uid: string;
  accountId: string;
  roleName: string;
  roleArn: string;
  team: string | null;
  reason: string;
  expiresAt: Date;
}

export interface Decision {
  id: string;
  state: 'approved' | 'rejected';
  by: string;
  at: Date;
  /** Approved: the end of the approval window; rejected: unchanged. */
  expiresAt?: Date | undefined;
  comment: string | null;
}

/** Persistence of access requests: its own table only; every write takes its audit callback. */
export class AccessRequestStore {
  readonly #db: Kysely<AccessRequestTables>;

  /**
   * The token service's Kysely, seen with this store's table only: the table's type stays in this
   * file instead of the service-wide tables.ts (same connection, same transactions).
   */
  constructor(db: Kysely<never>) {
    this.#db = db as unknown as Kysely<AccessRequestTables>;
  }

  async get(id: string): Promise<AccessRequestRow | undefined> {
    return this.#db
      .selectFrom('token_aws_access_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The newest approval of `uid` for `roleArn` still inside its window at `now`. */
  async currentApproval(uid: string, roleArn: string, now: Date): Promise<AccessRequestRow | undefined> {
    return this.#db
      .selectFrom('token_aws_access_requests')
      .selectAll()
      .where('uid', '=', uid)
      .where('role_arn', '=', roleArn)
      .where('state', '=', 'approved')
      .where('expires_at', '>', now)
      .orderBy('expires_at', 'desc')
      .executeTakeFirst();
  }

  /** The pending, unlapsed request of `uid` for `roleArn`, if any. */
  async pending(uid: string, roleArn: string, now: Date): Promise<AccessRequestRow | undefined> {
    return this.#db
      .selectFrom('token_aws_access_requests')
      .selectAll()
      .where('uid', '=', uid)
      .where('role_arn', '=', roleArn)
      .where('state', '=', 'pending')
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }

  /** Requests in `state` (as of `now`), newest first, at most `limit`. */
  async list(state: AccessRequestState | undefined, now: Date, limit: number): Promise<AccessRequestRow[]> {
    let q = this.#db.selectFrom('token_aws_access_requests').selectAll();
    if (state === 'expired') {
      q = q.where('state', 'in', ['pending', 'approved']).where('expires_at', '<=', now);
    } else if (state === 'pending' || state === 'approved') {
      q = q.where('state', '=', state).where('expires_at', '>', now);
    } else if (state === 'rejected') {
      q = q.where('state', '=', 'rejected');
    }
    return q.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  }

  async create(
    input: NewAccessRequest,
    now: Date,
    inTransaction: (trx: AuditTransaction, row: AccessRequestRow) => Promise<void>,
  ): Promise<AccessRequestRow> {
    const row: AccessRequestRow = {
      id: randomUUID(),
      uid: input.uid,
      account_id: input.accountId,
      role_name: input.roleName,
      role_arn: input.roleArn,
      team: input.team,
      reason: input.reason,
      state: 'pending',
      created_at: now,
      expires_at: input.expiresAt,
      decided_by: null,
      decided_at: null,
      comment: null,
    };
    return this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('token_aws_access_requests').values(row).execute();
      await inTransaction(trx, row);
      return row;
    });
  }

  /**
   * Decides a pending, unlapsed request, or answers undefined when it no longer is one (decided
   * by someone else meanwhile, or lapsed): the `where` makes two approvers racing decide once.
   */
  async decide(
    decision: Decision,
    inTransaction: (trx: AuditTransaction, row: AccessRequestRow) => Promise<void>,
  ): Promise<AccessRequestRow | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('token_aws_access_requests')
        .set({
          state: decision.state,
          decided_by: decision.by,
          decided_at: decision.at,
          comment: decision.comment,
          ...(decision.expiresAt ? { expires_at: decision.expiresAt } : {}),
        })
        .where('id', '=', decision.id)
        .where('state', '=', 'pending')
        .where('expires_at', '>', decision.at)
        .returningAll()
        .executeTakeFirst();
      if (row) await inTransaction(trx, row);
      return row;
    });
  }
}

/** The state a reader sees: a stored pending or approved request past `expires_at` has expired. */
export function stateOf(row: AccessRequestRow, now: Date): AccessRequestState {
  if (row.state === 'rejected') return 'rejected';
  return row.expires_at.getTime() > now.getTime() ? row.state : 'expired';
}
