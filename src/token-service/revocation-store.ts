import type { Kysely } from 'kysely';
import { Cache, type CacheLookups } from '../platform/cache/index.js';
import type { ChangeFeed } from '../platform/db/change-feed.js';
import { auditPurge, type TokenServiceAudit } from './audit.js';
import type { TokenServiceTables } from './tables.js';

/** Channel of the change feed on which every committed revocation is announced (key: its jti). */
export const REVOCATIONS_CHANNEL = 'token-service.revocations';

/**
 * Revoked access tokens by `jti`. Every verification asks, so the answer comes from memory:
 * revocations made here are visible at once, those of other replicas on their next request after
 * the commit (the change feed drops their snapshot), or after the refresh interval at worst while
 * their listening connection is down. A revocation is kept only until the token would have
 * expired anyway.
 */
export class RevocationStore {
  /** One entry: every live revocation (jti → expiry), read again once it is `refreshMs` old. */
  readonly #snapshot: Cache<'revoked', Map<string, number>>;

  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    refreshMs: number,
    private readonly now: () => number,
    lookups?: CacheLookups,
    private readonly changes?: ChangeFeed,
  ) {
    this.#snapshot = new Cache({
      name: 'token-revocations',
      max: 1,
      ttlMs: refreshMs,
      now,
      lookups,
      load: () => this.#load(),
    });
    // Any revocation (or a reconnect of the feed) makes the whole snapshot be read again.
    changes?.subscribe(REVOCATIONS_CHANNEL, () => this.#snapshot.clear());
  }

  async revoke(jti: string, expiresAt: Date, db: Kysely<TokenServiceTables> = this.db): Promise<void> {
    await this.revokeMany([{ jti, expiresAt }], db);
  }

  /**
   * Stores the revocations through `db` (the transaction that audits them). They count here at
   * once: should that transaction roll back, this replica refuses the tokens until its next
   * refresh, which errs on the safe side.
   */
  async revokeMany(
    tokens: ReadonlyArray<{ jti: string; expiresAt: Date }>,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<void> {
    const live = tokens.filter((t) => t.expiresAt.getTime() > this.now());
    if (live.length === 0) return;
    const revokedAt = new Date(this.now());
    await db
      .insertInto('token_revocations')
      .values(live.map((t) => ({ jti: t.jti, expires_at: t.expiresAt, revoked_at: revokedAt })))
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
    // Delivered when `db`'s transaction commits: no other replica reloads before the rows are visible.
    await this.changes?.notify(db, REVOCATIONS_CHANNEL, live.length === 1 ? live[0]!.jti : undefined);
    // Without a snapshot yet, the first check reads these from the database anyway.
    const revoked = this.#snapshot.peek('revoked');
    for (const t of live) revoked?.set(t.jti, t.expiresAt.getTime());
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.#snapshot.fetch('revoked', undefined)).has(jti);
  }

  /**
   * `isRevoked` without waiting, while the snapshot is fresh; undefined when it is missing, stale
   * or being read again (then ask `isRevoked`). For tokeninfo's answer from memory.
   */
  peekRevoked(jti: string): boolean | undefined {
    return this.#snapshot.peek('revoked')?.has(jti);
  }

  /** Deletes revocations of tokens that have expired anyway. */
  async deleteExpired(audit: TokenServiceAudit): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('token_revocations')
        .where('expires_at', '<', new Date(this.now()))
        .returning('jti')
        .execute();
      await auditPurge(
        audit,
        trx,
        'token-service.revocation.purge',
        rows.map((r) => r.jti),
      );
      return rows.length;
    });
  }

  async #load(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('token_revocations')
      .select(['jti', 'expires_at'])
      .where('expires_at', '>', new Date(this.now()))
      .execute();
    return new Map(rows.map((r) => [r.jti, new Date(r.expires_at).getTime()]));
  }
}
