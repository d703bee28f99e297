import type { Kysely } from 'kysely';
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
}

export type CodeRedemption =
  | { status: 'ok'; grant: AuthorizationGrant; codeHash: string; expired: boolean }
  | { status: 'reused'; familyId: string | null }
  | { status: 'unknown' };

/** Authorization codes (RFC 6749 §4.1), stored as digests, redeemable once. */
export class AuthorizationCodeStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  async create(grant: AuthorizationGrant): Promise<string> {
    const code = randomToken();
    await this.db
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
      })
      .execute();
    return code;
  }

  /** Marks the code used in the same statement that reads it, so two redemptions cannot both win. */
  async redeem(code: string): Promise<CodeRedemption> {
    const codeHash = digest(code);
    const row = await this.db
      .updateTable('token_authorization_codes')
      .set({ used_at: new Date(this.now()) })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (row) {
      return {
        status: 'ok',
        grant: toGrant(row),
        codeHash,
        expired: new Date(row.expires_at).getTime() <= this.now(),
      };
    }
    const used = await this.db
      .selectFrom('token_authorization_codes')
      .select('family_id')
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return used ? { status: 'reused', familyId: used.family_id } : { status: 'unknown' };
  }

  async setFamily(codeHash: string, familyId: string): Promise<void> {
    await this.db
      .updateTable('token_authorization_codes')
      .set({ family_id: familyId })
      .where('code_hash', '=', codeHash)
      .execute();
  }

  /** Deletes codes that can no longer be redeemed; a day later, so reuse is still detected meanwhile. */
  async deleteExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom('token_authorization_codes')
      .where('expires_at', '<', new Date(this.now() - 24 * 3600_000))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
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
  };
}
