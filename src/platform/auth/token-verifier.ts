import { createHash } from 'node:crypto';
import { decodeJwt, type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import { Cache, type CacheLookups } from '../cache/index.js';
import { NotAuthenticatedError } from '../errors.js';
import { type Principal, parseRealm, type Realm } from './principal.js';
import type { PrincipalCheck } from './principal-status.js';

/** An issuer whose tokens this installation accepts. */
export interface TrustedIssuer {
  /** Exact `iss` value. */
  issuer: string;
  /** Where the verification keys come from: our key store, or the issuer's JWKS. */
  keys: JWTVerifyGetKey;
  /** When set, the token's `aud` must contain it. */
  audience?: string | undefined;
  /**
   * Transition for an issuer that starts writing `aud`: a token with no `aud` claim at all is
   * still accepted when its `iat` is before this instant (tokens issued before the upgrade). A
   * token that names another audience is refused regardless.
   */
  acceptMissingAudienceIssuedBefore?: Date | undefined;
  /**
   * The realm of a verified token. Default: its `realm` claim, as this installation's token
   * service writes it; external issuers map realms explicitly (see `externalIssuer`).
   */
  realmOf?: ((claims: JWTPayload) => Realm | undefined) | undefined;
  /** Claim holding the user id (default `sub`); e.g. `preferred_username` for some IdPs. */
  uidClaim?: string | undefined;
  /**
   * Required JOSE `typ` header, e.g. `at+jwt` (RFC 9068 §4) for this installation's access tokens,
   * so an ID token or any other JWT the same keys signed is never taken for an access token.
   */
  requiredType?: string | undefined;
}

export interface TokenVerifierOptions {
  issuers: readonly TrustedIssuer[];
  /** Revocation check by `jti`; a revoked token is rejected even before it expires. */
  isRevoked?: (tokenId: string) => Promise<boolean>;
  /**
   * Whether the token's principal may no longer act (a disabled user): its tokens are then
   * rejected before they expire. Asked on every verification, so it must answer from a cache
   * (see `cachedPrincipalCheck`).
   */
  isDisabled?: PrincipalCheck;
  /** Verified tokens kept in memory (default 10,000). Verification is the cost of every request. */
  cacheSize?: number;
  /** Hits and misses of the verified-token cache are counted here when set. */
  cacheLookups?: CacheLookups;
  clockToleranceSeconds?: number;
  now?: () => number;
}

const ALGORITHMS = ['ES256', 'RS256', 'EdDSA', 'PS256', 'ES384', 'RS384', 'RS512'];

/**
 * The one module that turns an access token into a Principal. Every service uses it.
 * Verified tokens are cached by a hash of the token until they expire, because JWT
 * verification is what limits throughput (see PERFORMANCE.md).
 */
export class TokenVerifier {
  readonly #issuers: Map<string, TrustedIssuer>;
  readonly #cache: Cache<string, Principal>;
  readonly #isRevoked: ((tokenId: string) => Promise<boolean>) | undefined;
  readonly #isDisabled: PrincipalCheck | undefined;
  readonly #tolerance: number;
  readonly #now: () => number;

  constructor(options: TokenVerifierOptions) {
    this.#issuers = new Map(options.issuers.map((i) => [i.issuer, i]));
    // No TTL: an entry is good until its token expires, checked against `now` on every hit.
    this.#cache = new Cache({
      name: 'token-verifier',
      max: options.cacheSize ?? 10_000,
      lookups: options.cacheLookups,
    });
    this.#isRevoked = options.isRevoked;
    this.#isDisabled = options.isDisabled;
    this.#tolerance = options.clockToleranceSeconds ?? 5;
    this.#now = options.now ?? Date.now;
  }

  /** Adds an issuer at run time (e.g. once the token service knows its public URL). */
  trust(issuer: TrustedIssuer): void {
    this.#issuers.set(issuer.issuer, issuer);
  }

  get trustedIssuers(): string[] {
    return [...this.#issuers.keys()];
  }

  /** Forgets a cached verification, e.g. right after the token was revoked. */
  forget(token: string): void {
    this.#cache.delete(cacheKey(token));
  }

  async verify(token: string): Promise<Principal> {
    const key = cacheKey(token);
    const cached = this.#cache.get(key);
    if (cached && cached.expiresAt.getTime() > this.#now()) {
      if (cached.tokenId && this.#isRevoked && (await this.#isRevoked(cached.tokenId))) {
        this.#cache.delete(key);
        throw invalid('the access token was revoked');
      }
      // Not removed from the cache: the user may be enabled again before the token expires.
      if (this.#isDisabled && (await this.#isDisabled(cached))) throw disabled(cached);
      return cached;
    }
    if (cached) this.#cache.delete(key);

    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw invalid('the access token is not a valid JWT');
    }
    const trusted = unverified.iss ? this.#issuers.get(unverified.iss) : undefined;
    if (!trusted) throw invalid(`tokens of issuer ${JSON.stringify(unverified.iss ?? '')} are not accepted`);

    let payload: JWTPayload;
    // A token without `aud` may pass only under the transition rule, which jose cannot express.
    const legacy = trusted.audience !== undefined && trusted.acceptMissingAudienceIssuedBefore !== undefined;
    try {
      ({ payload } = await jwtVerify(token, trusted.keys, {
        issuer: trusted.issuer,
        algorithms: ALGORITHMS,
        clockTolerance: this.#tolerance,
        currentDate: new Date(this.#now()),
        ...(trusted.audience && !legacy ? { audience: trusted.audience } : {}),
        ...(trusted.requiredType ? { typ: trusted.requiredType } : {}),
      }));
    } catch (error) {
      throw invalid(describeJoseError(error), error);
    }
    if (legacy) checkAudience(payload, trusted.audience!, trusted.acceptMissingAudienceIssuedBefore!);

    const principal = toPrincipal(payload, trusted);
    if (principal.tokenId && this.#isRevoked && (await this.#isRevoked(principal.tokenId))) {
      throw invalid('the access token was revoked');
    }
    if (this.#isDisabled && (await this.#isDisabled(principal))) throw disabled(principal);
    this.#cache.set(key, principal);
    return principal;
  }
}

/** The audience check of the transition: no `aud` passes only for tokens issued before `before`. */
function checkAudience(payload: JWTPayload, audience: string, before: Date): void {
  if (payload.aud === undefined) {
    if (typeof payload.iat === 'number' && payload.iat * 1000 < before.getTime()) return;
    throw invalid('the access token claim "aud" is invalid: missing');
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(audience)) {
    throw invalid('the access token claim "aud" is invalid: check_failed');
  }
}

function cacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function invalid(message: string, cause?: unknown): NotAuthenticatedError {
  return new NotAuthenticatedError(message, { bearerError: 'invalid_token', code: 'TOKEN_INVALID', cause });
}

function disabled(principal: Principal): NotAuthenticatedError {
  return invalid(
    `the access token belongs to ${principal.realm === 'services' ? 'a service user' : 'a user'} who is disabled`,
  );
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the access token has expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the access token signature is invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the access token was signed with an unknown key';
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'typ') {
    return 'the token is not an access token (wrong "typ" header)';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `the access token claim "${error.claim}" is invalid: ${error.reason}`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'the access token uses an algorithm that is not allowed';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JOSEError) {
    return `the access token could not be verified (${error.code})`;
  }
  return 'the access token could not be verified';
}

function realmClaim(payload: JWTPayload): Realm | undefined {
  return parseRealm(typeof payload.realm === 'string' ? payload.realm : undefined);
}

function toPrincipal(payload: JWTPayload, trusted: TrustedIssuer): Principal {
  const uidClaim = trusted.uidClaim ?? 'sub';
  const uid = payload[uidClaim];
  if (typeof uid !== 'string' || uid === '') throw invalid(`the access token has no "${uidClaim}" claim`);
  const realm = (trusted.realmOf ?? realmClaim)(payload);
  if (!realm) throw invalid('the access token has no realm this installation knows');
  if (payload.exp === undefined) throw invalid('the access token has no expiry');
  const rawScope = payload.scope ?? payload.scp;
  const scopes = Array.isArray(rawScope)
    ? rawScope.filter((s): s is string => typeof s === 'string')
    : typeof rawScope === 'string'
      ? rawScope.split(' ').filter(Boolean)
      : [];
  return {
    uid,
    realm,
    scopes: new Set(scopes),
    clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    grantType: typeof payload.grant_type === 'string' ? payload.grant_type : undefined,
    issuer: trusted.issuer,
    tokenId: payload.jti,
    expiresAt: new Date(payload.exp * 1000),
  };
}

export { type ExternalIssuerConfig, externalIssuer } from './external-issuer.js';
