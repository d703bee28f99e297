import { decodeJwt } from 'jose';
import type { Principal } from '../platform/auth/principal.js';
import type { CachedPrincipalCheck } from '../platform/auth/principal-status.js';
import { TokenVerifier, type TrustedIssuer } from '../platform/auth/token-verifier.js';
import type { CacheLookups } from '../platform/cache/index.js';
import { NotAuthenticatedError } from '../platform/errors.js';
import type { UserDirectory } from '../users/contract.js';
import type { Kysely } from 'kysely';
import type { TokenServiceAudit } from './audit.js';
import type { IntrospectionResponse, OAuthClient, TokenInfo } from './contract.js';
import { OAuthError } from './oauth-error.js';
import type { RefreshTokenStore } from './refresh-token-store.js';
import type { RevocationStore } from './revocation-store.js';
import type { TokenServiceTables } from './tables.js';
import { expiresInSeconds, TokenInfoAnswers } from './tokeninfo-answers.js';

/** Fields of the STUPS tokeninfo answer that a scope of the same name must not overwrite. */
const TOKENINFO_FIELDS = new Set([
  'uid',
  'realm',
  'scope',
  'expires_in',
  'token_type',
  'grant_type',
  'access_token',
  'client_id',
]);

/** Reads tokens this service issued: tokeninfo, introspection, revocation, userinfo. */
export class TokenInspector {
  /** Tokens for any audience: tokeninfo and introspection serve every resource server. */
  readonly #verifier: TokenVerifier;
  /** Tokens for this installation's services only (the `aud` rule of `trusted`): userinfo is one. */
  readonly #platformVerifier: TokenVerifier;

  constructor(
    trusted: TrustedIssuer,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly revocations: RevocationStore,
    isDisabled: CachedPrincipalCheck,
    private readonly users: UserDirectory,
    private readonly audit: TokenServiceAudit,
    private readonly db: Kysely<TokenServiceTables>,
    private readonly now: () => number,
    /** `cache_lookups_total`: tokeninfo's answers from memory are counted here (hits and misses). */
    lookups?: CacheLookups,
  ) {
    const checks = { isRevoked: (jti: string) => revocations.isRevoked(jti), isDisabled, now };
    this.#verifier = new TokenVerifier({
      issuers: [{ ...trusted, audience: undefined, acceptMissingAudienceIssuedBefore: undefined }],
      ...checks,
    });
    this.#platformVerifier = new TokenVerifier({ issuers: [trusted], ...checks });
    this.#tokenInfoAnswers = new TokenInfoAnswers(
      {
        peekRevoked: (jti) => revocations.peekRevoked(jti),
        peekDisabled: (principal) => isDisabled.peek(principal),
      },
      now,
      lookups,
    );
  }

  readonly #tokenInfoAnswers: TokenInfoAnswers;

  /** A valid, unrevoked access token of ours (for any audience), or `invalid_token` saying why not. */
  async verify(token: string): Promise<Principal> {
    return this.#verifyWith(this.#verifier, token);
  }

  async #verifyWith(verifier: TokenVerifier, token: string): Promise<Principal> {
    try {
      return await verifier.verify(token);
    } catch (error) {
      if (error instanceof NotAuthenticatedError) {
        throw new OAuthError('invalid_token', error.message, {
          headers: { 'www-authenticate': `Bearer realm="stups", error="invalid_token"` },
        });
      }
      throw error;
    }
  }

  /** The STUPS tokeninfo document (see `TokenInfoSchema`). */
  async tokenInfo(token: string): Promise<TokenInfo> {
    return this.#tokenInfoOf(await this.verify(token), token);
  }

  /**
   * The same document, serialised, when it can be answered from memory without waiting (see
   * `TokenInfoAnswers`); undefined: call `tokenInfoJson`.
   */
  cachedTokenInfoJson(token: string): string | undefined {
    return this.#tokenInfoAnswers.answer(token);
  }

  /** The same document, serialised, after verifying the token; remembered for the next asks. */
  async tokenInfoJson(token: string): Promise<string> {
    let principal: Principal;
    try {
      principal = await this.verify(token);
    } catch (error) {
      this.#tokenInfoAnswers.forget(token);
      throw error;
    }
    const { expires_in: _expiresIn, ...document } = this.#tokenInfoOf(principal, token);
    return this.#tokenInfoAnswers.remember(token, principal, document);
  }

  #expiresIn(principal: Principal): number {
    return expiresInSeconds(principal.expiresAt.getTime(), this.now());
  }

  #tokenInfoOf(principal: Principal, token: string): TokenInfo {
    const scopes = [...principal.scopes];
    const flags = scopes.filter((s) => !TOKENINFO_FIELDS.has(s)).map((s) => [s, true] as const);
    return {
      // fromEntries defines own properties, so even a scope named `__proto__` stays plain data.
      ...Object.fromEntries(flags),
      uid: principal.uid,
      realm: `/${principal.realm}` as const,
      scope: scopes,
      expires_in: this.#expiresIn(principal),
      token_type: 'Bearer' as const,
      grant_type: principal.grantType ?? '',
      access_token: token,
      client_id: principal.clientId ?? '',
    };
  }

  /**
   * RFC 7662. Access tokens are answered to any authenticated client (resource servers);
   * refresh tokens only to the client holding them. Anything else is `{active: false}`.
   * The token's form decides where it is looked up, never `token_type_hint` (RFC 7662 §2.1: a
   * wrong hint must not hide a token): access tokens are JWTs, refresh tokens have no dots.
   */
  async introspect(
    token: string,
    _hint: string | undefined,
    client: OAuthClient,
  ): Promise<IntrospectionResponse> {
    if (looksLikeJwt(token)) {
      try {
        const principal = await this.#verifier.verify(token);
        const { iat, aud } = decodeJwt(token);
        return {
          active: true,
          scope: [...principal.scopes].join(' '),
          client_id: principal.clientId,
          username: principal.uid,
          sub: principal.uid,
          token_type: 'Bearer',
          exp: Math.floor(principal.expiresAt.getTime() / 1000),
          ...(iat !== undefined ? { iat } : {}),
          iss: principal.issuer,
          // RFC 7662 §2.2: the resource server checks that it is among the token's audiences.
          ...(aud !== undefined ? { aud } : {}),
          jti: principal.tokenId,
          realm: `/${principal.realm}`,
          grant_type: principal.grantType,
        };
      } catch {
        return { active: false };
      }
    }
    const refresh = await this.refreshTokens.find(token);
    if (refresh?.status !== 'active' || refresh.grant.clientId !== client.clientId) return { active: false };
    return {
      active: true,
      scope: refresh.grant.scopes.join(' '),
      client_id: refresh.grant.clientId,
      username: refresh.grant.uid,
      sub: refresh.grant.uid,
      exp: Math.floor(refresh.expiresAt.getTime() / 1000),
      iat: Math.floor(refresh.createdAt.getTime() / 1000),
      realm: `/${refresh.grant.realm}`,
      grant_type: refresh.grant.grantType,
    };
  }

  /**
   * RFC 7009. Only the client a token was issued to may revoke it. Unknown and invalid tokens
   * are answered like success (§2.2), so the endpoint does not tell which tokens exist.
   * Revoking a refresh token revokes its whole family and the access tokens issued with it.
   * As for introspection, `token_type_hint` is only a hint (RFC 7009 §2.1) and is not needed.
   */
  async revoke(
    token: string,
    _hint: string | undefined,
    client: OAuthClient,
    requestId: string,
  ): Promise<void> {
    const actor = { uid: client.clientId };
    const refused = (id: string, reason: string) =>
      this.audit.standalone({
        event: 'token-service.token.revoke',
        actor,
        targetId: id,
        outcome: 'failure',
        details: { reason, client_id: client.clientId },
        requestId,
      });
    if (looksLikeJwt(token)) {
      let principal: Principal;
      try {
        principal = await this.#verifier.verify(token);
      } catch {
        return;
      }
      if (principal.clientId !== client.clientId || !principal.tokenId) {
        await refused(principal.tokenId ?? 'unknown', 'access token of another client');
        return;
      }
      const { tokenId, expiresAt } = principal;
      await this.db.transaction().execute(async (trx) => {
        await this.revocations.revoke(tokenId, expiresAt, trx);
        await this.audit(trx, {
          event: 'token-service.token.revoke',
          actor,
          targetId: tokenId,
          details: { kind: 'access token', client_id: client.clientId },
          requestId,
        });
      });
      this.#verifier.forget(token);
      this.#platformVerifier.forget(token);
      this.#tokenInfoAnswers.forget(token);
      return;
    }
    const refresh = await this.refreshTokens.find(token);
    if (!refresh) return;
    const { familyId } = refresh.grant;
    if (refresh.grant.clientId !== client.clientId) {
      await refused(familyId, 'refresh token of another client');
      return;
    }
    // The whole family goes, with the access tokens issued with it.
    await this.db.transaction().execute(async (trx) => {
      const accessTokens = await this.refreshTokens.revokeFamily(familyId, trx);
      await this.revocations.revokeMany(accessTokens, trx);
      await this.audit(trx, {
        event: 'token-service.token.revoke',
        actor,
        targetId: familyId,
        details: { kind: 'refresh token', client_id: client.clientId, access_tokens: accessTokens.length },
        requestId,
      });
    });
  }

  /** OIDC userinfo for an employee token holding `openid`. */
  async userInfo(token: string): Promise<Record<string, string>> {
    const principal = await this.#verifyWith(this.#platformVerifier, token);
    if (principal.realm !== 'employees' || !principal.scopes.has('openid')) {
      throw new OAuthError('insufficient_scope', 'userinfo needs an employee token with the openid scope', {
        headers: { 'www-authenticate': 'Bearer realm="stups", error="insufficient_scope", scope="openid"' },
      });
    }
    const user = await this.users.getUser(principal.uid);
    const info: Record<string, string> = { sub: principal.uid };
    if (principal.scopes.has('profile')) {
      info.preferred_username = principal.uid;
      if (user) info.name = user.name;
    }
    if (principal.scopes.has('email') && user) info.email = user.email;
    return info;
  }
}

function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}
