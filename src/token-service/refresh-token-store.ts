import type { Kysely } from 'kysely';
import type { Realm } from '../platform/auth/principal.js';
import { auditPurge, type TokenServiceAudit } from './audit.js';
import { jsonList } from './client-store.js';
import { digest } from './secrets.js';
import type { RefreshTokensTable, TokenServiceTables } from './tables.js';

export interface RefreshGrant {
  familyId: string;
  clientId: string;
  uid: string;
  realm: Realm;
  scopes: string[];
  /** The grant that started the family (`password`, `authorization_code`, …). */
  grantType: string;
  accessJti: string;
  accessExpiresAt: Date;
  /** Digest of the sign-in session's id whose code started the family; null: none (password, device, …). */
  sessionIdHash: string | null;
}

/**
 * Rotating refresh tokens (RFC 9700 §4.14.2): each use returns a new token of the same family;
 * presenting a used one again revokes the whole family, since one of the two holders is a thief.
 */
export class RefreshTokenStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  /** Stores `token` (as its digest) for `grant`; `db` may be the transaction that spent the old one. */
  async insert(token: string, grant: RefreshGrant, db: Kysely<TokenServiceTables> = this.db): Promise<void> {
    const now = this.now();
    await db
      .insertInto('token_refresh_tokens')
      .values({
        token_hash: digest(token),
        family_id: grant.familyId,
        client_id: grant.clientId,
        uid: grant.uid,
        realm: grant.realm,
        scopes: JSON.stringify(grant.scopes),
        grant_type: grant.grantType,
        access_jti: grant.accessJti,
        access_expires_at: grant.accessExpiresAt,
        expires_at: new Date(now + this.lifetimeMs),
        used_at: null,
        revoked_at: null,
        created_at: new Date(now),
        session_id_hash: grant.sessionIdHash,
      })
      .execute();
  }

  /**
   * Spends an active token: a conditional update, so of two concurrent redemptions exactly one
   * gets the grant. The row stays locked until `db`'s transaction ends, so the loser's next look
   * (`find`) sees the winner's new token as well and revokes it with the family.
   */
  async redeem(token: string, db: Kysely<TokenServiceTables> = this.db): Promise<RefreshGrant | undefined> {
    const now = new Date(this.now());
    const row = await db
      .updateTable('token_refresh_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', digest(token))
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row ? toGrant(row) : undefined;
  }

  /** The token's state without using it (introspection, revocation). */
  async find(token: string): Promise<
    | {
        status: 'active' | 'expired' | 'reused' | 'revoked';
        grant: RefreshGrant;
        expiresAt: Date;
        createdAt: Date;
      }
    | undefined
  > {
    const row = await this.db
      .selectFrom('token_refresh_tokens')
      .selectAll()
      .where('token_hash', '=', digest(token))
      .executeTakeFirst();
    if (!row) return undefined;
    const expiresAt = new Date(row.expires_at);
    const status =
      row.revoked_at !== null
        ? 'revoked'
        : row.used_at !== null
          ? 'reused'
          : expiresAt.getTime() <= this.now()
            ? 'expired'
            : 'active';
    return { status, grant: toGrant(row), expiresAt, createdAt: new Date(row.created_at) };
  }

  /** Revokes every token of the family; returns the access tokens issued with them, to revoke those too. */
  async revokeFamily(
    familyId: string,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<Array<{ jti: string; expiresAt: Date }>> {
    const rows = await db
      .updateTable('token_refresh_tokens')
      .set({ revoked_at: new Date(this.now()) })
      .where('family_id', '=', familyId)
      .returning(['access_jti', 'access_expires_at'])
      .execute();
    return rows.map((r) => ({ jti: r.access_jti, expiresAt: new Date(r.access_expires_at) }));
  }

  /**
   * Revokes the families the session started (sign-out), through `db`: the transaction that ends
   * the session. Returns each family with the access tokens to revoke along with it.
   */
  async revokeSessionFamilies(
    sessionIdHash: string,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<Map<string, Array<{ jti: string; expiresAt: Date }>>> {
    const rows = await db
      .updateTable('token_refresh_tokens')
      .set({ revoked_at: new Date(this.now()) })
      .where('session_id_hash', '=', sessionIdHash)
      .where('revoked_at', 'is', null)
      .returning(['family_id', 'access_jti', 'access_expires_at'])
      .execute();
    const families = new Map<string, Array<{ jti: string; expiresAt: Date }>>();
    for (const r of rows) {
      const tokens = families.get(r.family_id) ?? [];
      tokens.push({ jti: r.access_jti, expiresAt: new Date(r.access_expires_at) });
      families.set(r.family_id, tokens);
    }
    return families;
  }

  async deleteExpired(audit: TokenServiceAudit): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('token_refresh_tokens')
        .where('expires_at', '<', new Date(this.now()))
        .returning('family_id')
        .execute();
      // Named by family (the token's own key is a hash of it); `count` counts families, `tokens` rows.
      const families = [...new Set(rows.map((r) => r.family_id))];
      await auditPurge(audit, trx, 'token-service.refresh_token.purge', families, { tokens: rows.length });
      return rows.length;
    });
  }
}

function toGrant(row: RefreshTokensTable): RefreshGrant {
  return {
    familyId: row.family_id,
    clientId: row.client_id,
    uid: row.uid,
    realm: row.realm as Realm,
    scopes: jsonList(row.scopes),
    grantType: row.grant_type,
    accessJti: row.access_jti,
    accessExpiresAt: new Date(row.access_expires_at),
    sessionIdHash: row.session_id_hash ?? null,
  };
}
