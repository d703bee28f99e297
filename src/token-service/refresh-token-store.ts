import type { Kysely } from 'kysely';
import type { Realm } from '../platform/auth/principal.js';
import { jsonList } from './client-store.js';
import { digest, randomToken } from './secrets.js';
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
}

export type RefreshRedemption =
  | { status: 'ok'; grant: RefreshGrant }
  | { status: 'expired' | 'reused' | 'revoked'; grant: RefreshGrant }
  | { status: 'unknown' };

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

  async create(grant: RefreshGrant): Promise<string> {
    const token = randomToken();
    const now = this.now();
    await this.db
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
      })
      .execute();
    return token;
  }

  /** Marks the token used in the same statement that reads it. */
  async redeem(token: string): Promise<RefreshRedemption> {
    const hash = digest(token);
    const now = new Date(this.now());
    const row = await this.db
      .updateTable('token_refresh_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (row) return { status: 'ok', grant: toGrant(row) };
    const existing = await this.find(token);
    if (!existing) return { status: 'unknown' };
    return { status: existing.status === 'active' ? 'reused' : existing.status, grant: existing.grant };
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
  async revokeFamily(familyId: string): Promise<Array<{ jti: string; expiresAt: Date }>> {
    const rows = await this.db
      .updateTable('token_refresh_tokens')
      .set({ revoked_at: new Date(this.now()) })
      .where('family_id', '=', familyId)
      .returning(['access_jti', 'access_expires_at'])
      .execute();
    return rows.map((r) => ({ jti: r.access_jti, expiresAt: new Date(r.access_expires_at) }));
  }

  async deleteExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('token_refresh_tokens')
      .where('expires_at', '<', new Date(this.now()))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
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
  };
}
