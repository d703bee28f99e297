import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Realm, StupsAccessTokenClaims } from '../platform/auth/principal.js';
import type { UserDirectory } from '../users/contract.js';
import type { ResolvedTokenServiceConfig } from './config.js';
import type { TokenResponse } from './contract.js';
import type { KeyStore } from './key-store.js';
import type { RefreshTokenStore } from './refresh-token-store.js';

export interface IssueRequest {
  uid: string;
  realm: Realm;
  scopes: string[];
  clientId: string;
  /** The grant used now; it goes into the token as `grant_type`. */
  grantType: string;
  /** Issue a refresh token, continuing `familyId` when given (rotation). */
  refresh: false | { familyId?: string | undefined; familyGrantType: string };
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

/** Signs access (and ID) tokens and stores refresh tokens. */
export class TokenMinter {
  constructor(
    private readonly issuer: string,
    private readonly config: ResolvedTokenServiceConfig,
    private readonly keys: KeyStore,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly users: UserDirectory,
    private readonly now: () => number,
  ) {}

  async issue(request: IssueRequest): Promise<Issued> {
    const key = await this.keys.signingKey();
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.config.accessTokenLifetimeSeconds;
    const jti = randomUUID();
    const scope = request.scopes.join(' ');
    const claims: StupsAccessTokenClaims = {
      iss: this.issuer,
      sub: request.uid,
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
    if (request.refresh) {
      familyId = request.refresh.familyId ?? randomUUID();
      response.refresh_token = await this.refreshTokens.create({
        familyId,
        clientId: request.clientId,
        uid: request.uid,
        realm: request.realm,
        scopes: request.scopes,
        grantType: request.refresh.familyGrantType,
        accessJti: jti,
        accessExpiresAt: expiresAt,
      });
    }
    if (request.realm === 'employees' && request.scopes.includes('openid')) {
      response.id_token = await this.#idToken(request, iat, exp, key);
    }
    return { response, jti, expiresAt, familyId };
  }

  async #idToken(
    request: IssueRequest,
    iat: number,
    exp: number,
    key: Awaited<ReturnType<KeyStore['signingKey']>>,
  ): Promise<string> {
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
