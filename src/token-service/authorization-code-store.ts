import type { Kysely } from 'kysely';
import { auditPurge, type TokenServiceAudit } from './audit.js';
import { jsonList } from './client-store.js';
import { digest, randomToken } from './secrets.js';
import type { AuthorizationCodesTable, TokenServiceTables } from './tables.js';

export interface AuthorizationGrant {
  clientId: string;
  redirectUri: string | null;
  uid: string;
  scopes: string[];
  codeChallenge: string;
  nonce: string | null;
  authTime: Date;
  /** RFC 8707 resources named in the authorization request; null: none. */
  resources: string[] | null;
  /** Digest of the sign-in session's id that issued the code; null: issued without a session. */
  sessionIdHash: string | null;
}

/** A stored code as the token endpoint checks it before spending it. */
export interface StoredCode {
  grant: AuthorizationGrant;
  codeHash: string;
  expired: boolean;
  used: boolean;
}

/** What was issued for a spent code; withdrawn when the code comes back (RFC 6749 §4.1.2). */
export interface IssuedForCode {
  familyId: string | null;
  accessJti: string | null;
  accessExpiresAt: Date | null;
}

/** Authorization codes (RFC 6749 §4.1), stored as digests, redeemable once. */
export class AuthorizationCodeStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  /** Stores a new code through `db`: the transaction that also writes its audit event. */
  async create(grant: AuthorizationGrant, db: Kysely<TokenServiceTables> = this.db): Promise<string> {
    const code = randomToken();
    await db
      .insertInto('token_authorization_codes')
      .values({
        code_hash: digest(code),
        client_id: grant.clientId,
        redirect_uri: grant.redirectUri,
        uid: grant.uid,
        scopes: JSON.stringify(grant.scopes),
        code_challenge: grant.codeChallenge,
        nonce: grant.nonce,
        auth_time: grant.authTime,
        expires_at: new Date(this.now() + this.lifetimeMs),
        used_at: null,
        family_id: null,
        resources: grant.resources === null ? null : JSON.stringify(grant.resources),
        session_id_hash: grant.sessionIdHash,
      })
      .execute();
    return code;
  }

  /** The code's grant and state, without spending it. */
  async find(code: string): Promise<StoredCode | undefined> {
    const codeHash = digest(code);
    const row = await this.db
      .selectFrom('token_authorization_codes')
      .selectAll()
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      grant: toGrant(row),
      codeHash,
      expired: new Date(row.expires_at).getTime() <= this.now(),
      used: row.used_at !== null,
    };
  }

  /**
   * Spends the code and records what was issued for it, in one conditional update: of two
   * concurrent redemptions exactly one wins. Run in the transaction that stores the new refresh
   * token; the row stays locked until it commits, so the loser then reads `issued` complete.
   */
  async spend(
    codeHash: string,
    issued: IssuedForCode,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<boolean> {
    const row = await db
      .updateTable('token_authorization_codes')
      .set({
        used_at: new Date(this.now()),
        family_id: issued.familyId,
        access_jti: issued.accessJti,
        access_expires_at: issued.accessExpiresAt,
      })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .returning('code_hash')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** What was issued for a spent code (nothing when it was spent by a failed PKCE check). */
  async issuedFor(codeHash: string): Promise<IssuedForCode> {
    const row = await this.db
      .selectFrom('token_authorization_codes')
      .select(['family_id', 'access_jti', 'access_expires_at'])
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return {
      familyId: row?.family_id ?? null,
      accessJti: row?.access_jti ?? null,
      accessExpiresAt: row?.access_expires_at ? new Date(row.access_expires_at) : null,
    };
  }

  /**
   * The access tokens issued for the session's codes: a client without refresh tokens has only
   * this one, and sign-out withdraws it with the families.
   */
  async accessTokensOfSession(
    sessionIdHash: string,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<Array<{ jti: string; expiresAt: Date }>> {
    const rows = await db
      .selectFrom('token_authorization_codes')
      .select(['access_jti', 'access_expires_at'])
      .where('session_id_hash', '=', sessionIdHash)
      .where('access_jti', 'is not', null)
      .execute();
    return rows.flatMap((r) =>
      r.access_jti && r.access_expires_at
        ? [{ jti: r.access_jti, expiresAt: new Date(r.access_expires_at) }]
        : [],
    );
  }

  /** Deletes codes that can no longer be redeemed; a day later, so reuse is still detected meanwhile. */
  async deleteExpired(audit: TokenServiceAudit): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('token_authorization_codes')
        .where('expires_at', '<', new Date(this.now() - 24 * 3600_000))
        .returning(['client_id', 'uid'])
        .execute();
      await auditPurge(
        audit,
        trx,
        'token-service.authorization_code.purge',
        rows.map((r) => `${r.client_id}/${r.uid}`),
      );
      return rows.length;
    });
  }
}

function toGrant(row: AuthorizationCodesTable): AuthorizationGrant {
  return {
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    uid: row.uid,
    scopes: jsonList(row.scopes),
    codeChallenge: row.code_challenge,
    nonce: row.nonce,
    authTime: new Date(row.auth_time),
    resources: row.resources === null || row.resources === undefined ? null : jsonList(row.resources),
    sessionIdHash: row.session_id_hash ?? null,
  };
}
