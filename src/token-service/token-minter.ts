import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Realm, StupsAccessTokenClaims } from '../platform/auth/principal.js';
import type { UserDirectory } from '../users/contract.js';
import type { ResolvedTokenServiceConfig } from './config.js';
import type { IdTokenSigningAlgorithm, TokenResponse } from './contract.js';
import type { KeyStore, SigningKey } from './key-store.js';
import type { RefreshGrant, RefreshTokenStore } from './refresh-token-store.js';
import { randomToken } from './secrets.js';
import type { TokenServiceTables } from './tables.js';
import type { Kysely } from 'kysely';

export interface IssueRequest {
  uid: string;
  realm: Realm;
  scopes: string[];
  clientId: string;
  /** The grant used now; it goes into the token as `grant_type`. */
  grantType: string;
  /**
   * Issue a refresh token, continuing `familyId` when given (rotation). `scopes` is the refresh
   * token's own scope when it differs from the access token's (RFC 6749 §6: narrowing on refresh
   * applies to the new access token only).
   */
  refresh:
    | false
    | {
        familyId?: string | undefined;
        familyGrantType: string;
        scopes?: string[] | undefined;
        /** The sign-in session the family belongs to (its id's digest): sign-out revokes it. */
        sessionIdHash?: string | null | undefined;
      };
  /**
   * `aud` of the access token: the resources the client named (RFC 8707), already checked
   * against the allowed ones; absent or empty: this installation's own services.
   */
  audience?: readonly string[] | undefined;
  /** The client's `id_token_signed_response_alg` (default RS256). */
  idTokenAlg?: IdTokenSigningAlgorithm | undefined;
  /** OIDC: an ID token is added when `openid` is granted to an employee. */
  nonce?: string | null | undefined;
  authTime?: Date | undefined;
}

export interface Issued {
  response: TokenResponse;
  jti: string;
  expiresAt: Date;
  familyId: string | undefined;
}

/** Signed tokens whose refresh token is not stored yet: `store` it in the redeeming transaction. */
export interface Minted extends Issued {
  refresh: { token: string; grant: RefreshGrant } | undefined;
}

/**
 * Signs access (and ID) tokens and stores refresh tokens. Grants `mint` first, outside any
 * transaction, and `store` in the transaction that spends what they redeem (a code, a refresh
 * token) and writes the `token.issue` event: a concurrent second redemption then sees the spent
 * row and the new tokens together, and no token is stored without its event.
 */
export class TokenMinter {
  constructor(
    private readonly issuer: string,
    /** `aud` of access tokens for this installation's own services. */
    private readonly platformAudience: string,
    private readonly config: ResolvedTokenServiceConfig,
    private readonly keys: KeyStore,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly users: UserDirectory,
    private readonly now: () => number,
  ) {}

  /** Stores the refresh token of `minted` (if any) through `db`, e.g. a transaction. */
  async store(minted: Minted, db?: Kysely<TokenServiceTables>): Promise<void> {
    if (minted.refresh) await this.refreshTokens.insert(minted.refresh.token, minted.refresh.grant, db);
  }

  /** Signs the tokens; touches the database only to read the signing key and the user's profile. */
  async mint(request: IssueRequest): Promise<Minted> {
    const key = await this.keys.signingKey();
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.config.accessTokenLifetimeSeconds;
    const jti = randomUUID();
    const scope = request.scopes.join(' ');
    const audience = request.audience?.length ? request.audience : [this.platformAudience];
    const claims: StupsAccessTokenClaims = {
      iss: this.issuer,
      sub: request.uid,
      // RFC 9068 §2.2: who may accept it; every platform service requires the platform audience.
      aud: audience.length === 1 ? audience[0]! : [...audience],
      realm: `/${request.realm}`,
      scope,
      client_id: request.clientId,
      grant_type: request.grantType,
      jti,
      iat,
      exp,
    };
    // RFC 9068 `at+jwt`, so an access token can never be mistaken for an ID token.
    const accessToken = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
    const expiresAt = new Date(exp * 1000);

    const response: TokenResponse = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.config.accessTokenLifetimeSeconds,
      scope,
    };
    let familyId: string | undefined;
    let refresh: Minted['refresh'];
    if (request.refresh) {
      familyId = request.refresh.familyId ?? randomUUID();
      refresh = {
        token: randomToken(),
        grant: {
          familyId,
          clientId: request.clientId,
          uid: request.uid,
          realm: request.realm,
          scopes: request.refresh.scopes ?? request.scopes,
          grantType: request.refresh.familyGrantType,
          accessJti: jti,
          accessExpiresAt: expiresAt,
          sessionIdHash: request.refresh.sessionIdHash ?? null,
        },
      };
      response.refresh_token = refresh.token;
    }
    if (request.realm === 'employees' && request.scopes.includes('openid')) {
      response.id_token = await this.#idToken(
        request,
        iat,
        exp,
        await this.keys.signingKey(request.idTokenAlg ?? 'RS256'),
      );
    }
    return { response, jti, expiresAt, familyId, refresh };
  }

  async #idToken(request: IssueRequest, iat: number, exp: number, key: SigningKey): Promise<string> {
    const user = await this.users.getUser(request.uid);
    const claims: Record<string, unknown> = {};
    if (request.scopes.includes('profile') && user) claims.name = user.name;
    if (request.scopes.includes('profile')) claims.preferred_username = request.uid;
    if (request.scopes.includes('email') && user) claims.email = user.email;
    if (request.nonce) claims.nonce = request.nonce;
    if (request.authTime) claims.auth_time = Math.floor(request.authTime.getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(request.uid)
      .setAudience(request.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
  }
}
