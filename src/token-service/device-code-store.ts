import type { Kysely } from 'kysely';
import { auditPurge, type TokenServiceAudit } from './audit.js';
import { jsonList } from './client-store.js';
import { digest, normalizeUserCode, randomToken, randomUserCode } from './secrets.js';
import type { TokenServiceTables } from './tables.js';

export interface PendingDevice {
  userCode: string;
  clientId: string;
  scopes: string[];
}

export type DevicePoll =
  | {
      status:
        'unknown' | 'authorization_pending' | 'slow_down' | 'expired_token' | 'access_denied' | 'consumed';
    }
  | { status: 'approved'; clientId: string; uid: string; scopes: string[] };

/** Device codes of RFC 8628: the device polls with the device code, a person approves the user code. */
export class DeviceCodeStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly lifetimeMs: number,
    private readonly intervalSeconds: number,
    private readonly now: () => number,
  ) {}

  async create(
    clientId: string,
    scopes: string[],
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<{ deviceCode: string; userCode: string }> {
    const deviceCode = randomToken();
    // User codes are short, so a collision with a live one is possible, if rare: try again.
    for (let attempt = 0; ; attempt++) {
      const userCode = randomUserCode();
      const inserted = await db
        .insertInto('token_device_codes')
        .values({
          device_code_hash: digest(deviceCode),
          user_code: userCode,
          client_id: clientId,
          scopes: JSON.stringify(scopes),
          status: 'pending',
          uid: null,
          expires_at: new Date(this.now() + this.lifetimeMs),
          interval_seconds: this.intervalSeconds,
          last_polled_at: null,
        })
        .onConflict((oc) => oc.column('user_code').doNothing())
        .executeTakeFirst();
      if (inserted.numInsertedOrUpdatedRows === 1n) return { deviceCode, userCode };
      if (attempt >= 5) throw new Error('could not allocate a unique user code');
    }
  }

  /** The pending, unexpired request a person is about to approve, or undefined. */
  async findPending(userCode: string): Promise<PendingDevice | undefined> {
    const row = await this.db
      .selectFrom('token_device_codes')
      .select(['user_code', 'client_id', 'scopes'])
      .where('user_code', '=', normalizeUserCode(userCode))
      .where('status', '=', 'pending')
      .where('expires_at', '>', new Date(this.now()))
      .executeTakeFirst();
    return row
      ? { userCode: row.user_code, clientId: row.client_id, scopes: jsonList(row.scopes) }
      : undefined;
  }

  /** Approves (uid given) or denies a pending request; false when it is no longer pending. */
  async decide(
    userCode: string,
    decision: { approve: boolean; uid: string },
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<boolean> {
    const result = await db
      .updateTable('token_device_codes')
      .set({ status: decision.approve ? 'approved' : 'denied', uid: decision.uid })
      .where('user_code', '=', normalizeUserCode(userCode))
      .where('status', '=', 'pending')
      .where('expires_at', '>', new Date(this.now()))
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /**
   * One poll of the device (RFC 8628 §3.5). Polling faster than the interval answers `slow_down`
   * and adds 5 seconds to the interval. An approved code is only reported: `claim` hands it out, once.
   */
  async poll(deviceCode: string, clientId: string): Promise<DevicePoll> {
    const hash = digest(deviceCode);
    const now = this.now();
    const row = await this.db
      .selectFrom('token_device_codes')
      .selectAll()
      .where('device_code_hash', '=', hash)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    if (!row) return { status: 'unknown' };
    if (row.status === 'consumed') return { status: 'consumed' };
    if (new Date(row.expires_at).getTime() <= now) return { status: 'expired_token' };
    const last = row.last_polled_at === null ? undefined : new Date(row.last_polled_at).getTime();
    const tooFast = last !== undefined && now - last < row.interval_seconds * 1000;
    await this.db
      .updateTable('token_device_codes')
      .set({ last_polled_at: new Date(now), interval_seconds: row.interval_seconds + (tooFast ? 5 : 0) })
      .where('device_code_hash', '=', hash)
      .execute();
    if (tooFast) return { status: 'slow_down' };
    if (row.status === 'denied') return { status: 'access_denied' };
    if (row.status === 'pending') return { status: 'authorization_pending' };
    if (row.uid === null) return { status: 'consumed' };
    return { status: 'approved', clientId: row.client_id, uid: row.uid, scopes: jsonList(row.scopes) };
  }

  /**
   * Hands out an approved code: true for exactly one of concurrent claims. Run in the transaction
   * that stores the issued tokens and their audit event.
   */
  async claim(deviceCode: string, db: Kysely<TokenServiceTables> = this.db): Promise<boolean> {
    const claimed = await db
      .updateTable('token_device_codes')
      .set({ status: 'consumed' })
      .where('device_code_hash', '=', digest(deviceCode))
      .where('status', '=', 'approved')
      .executeTakeFirst();
    return claimed.numUpdatedRows === 1n;
  }

  async deleteExpired(audit: TokenServiceAudit): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('token_device_codes')
        .where('expires_at', '<', new Date(this.now()))
        .returning(['client_id', 'uid'])
        .execute();
      // A code nobody approved has no user: it is named by its client alone.
      const ids = rows.map((r) => (r.uid === null ? r.client_id : `${r.client_id}/${r.uid}`));
      await auditPurge(audit, trx, 'token-service.device_code.purge', ids);
      return rows.length;
    });
  }
}
