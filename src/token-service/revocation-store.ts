import type { Kysely } from 'kysely';
import type { TokenServiceTables } from './tables.js';

/**
 * Revoked access tokens by `jti`. Every verification asks, so the answer comes from memory:
 * revocations made here are visible at once, those of other replicas after the next refresh.
 * A revocation is kept only until the token would have expired anyway.
 */
export class RevocationStore {
  #revoked = new Map<string, number>();
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly refreshMs: number,
    private readonly now: () => number,
  ) {}

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
    for (const t of live) this.#revoked.set(t.jti, t.expiresAt.getTime());
  }

  async isRevoked(jti: string): Promise<boolean> {
    const now = this.now();
    if (now - this.#refreshedAt > this.refreshMs || this.#refreshedAt > now) await this.#refresh();
    return this.#revoked.has(jti);
  }

  /** Deletes revocations of tokens that have expired anyway. */
  async deleteExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('token_revocations')
      .where('expires_at', '<', new Date(this.now()))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const rows = await this.db
          .selectFrom('token_revocations')
          .select(['jti', 'expires_at'])
          .where('expires_at', '>', new Date(this.now()))
          .execute();
        this.#revoked = new Map(rows.map((r) => [r.jti, new Date(r.expires_at).getTime()]));
        this.#refreshedAt = this.now();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }
}
