import { z } from 'zod';
import { ConfigError } from '../platform/errors.js';

/** Signing algorithms the key store can generate; ES256 is the default (small keys, fast signing). */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const ScopeName = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be an OAuth scope token');

/**
 * Configuration of the token service. Every field is optional; the default is given beside it.
 * `main` reads env/flags, passes what it found, and `resolveTokenServiceConfig` reports all problems.
 */
export const TokenServiceConfigSchema = z.strictObject({
  /** Lifetime of access tokens (default 3600 s, as STUPS tokens always had). */
  accessTokenLifetimeSeconds: seconds(3600),
  /** Lifetime of a refresh token; each rotation issues a new one with a fresh lifetime (default 30 days). */
  refreshTokenLifetimeSeconds: seconds(30 * 24 * 3600),
  /** Lifetime of an authorization code (default 60 s; RFC 6749 recommends at most 10 minutes). */
  authorizationCodeLifetimeSeconds: seconds(60),
  /** Lifetime of a device code / user code pair (default 600 s). */
  deviceCodeLifetimeSeconds: seconds(600),
  /** Minimum polling interval for the device flow (default 5 s, RFC 8628). */
  devicePollIntervalSeconds: seconds(5),
  /** Algorithm of new signing keys (default ES256). */
  signingAlgorithm: z.enum(SIGNING_ALGORITHMS).default('ES256'),
  /** A new signing key is created once the current one is older than this (default 7 days). */
  keyRotationAgeSeconds: seconds(7 * 24 * 3600),
  /** How often `start()` rotates keys and deletes expired rows (default 300 s). */
  maintenanceIntervalSeconds: seconds(300),
  /**
   * Secret from which the key that encrypts private signing keys at rest is derived (HKDF → A256GCM).
   * Without it private keys are stored as plain JWK in the database (a warning is logged at start).
   */
  keyEncryptionSecret: z.string().min(16).optional(),
  /**
   * Failed logins for one account from one source address before that pair is refused for a while
   * (default 10). A refusal is answered exactly like a wrong password.
   */
  maxFailedLogins: z.coerce.number().int().min(1).default(10),
  /** Failed logins from one source address, over all accounts, before the source is refused (default 100). */
  maxFailedLoginsPerSource: z.coerce.number().int().min(1).default(100),
  /**
   * Failed logins for one account from all sources before the account is refused (default 100):
   * high, so that locking a named user out takes many addresses.
   */
  maxFailedLoginsPerAccount: z.coerce.number().int().min(1).default(100),
  /**
   * Failed client authentications for one client from one source address before that pair is
   * refused (default 10); the per-source and per-account limits of logins apply as well.
   */
  maxFailedClientAuthentications: z.coerce.number().int().min(1).default(10),
  /** The window failed logins and client authentications are counted in, and the longest lock-out (default 900 s). */
  failedLoginWindowSeconds: seconds(900),
  /** Secret for CSRF tokens of the HTML pages; a random one per process when absent (single replica). */
  csrfSecret: z.string().min(16).optional(),
  /** Scopes an employee may request (default uid openid email profile offline_access). */
  employeeScopes: z.array(ScopeName).default(['uid', 'openid', 'email', 'profile', 'offline_access']),
  /** Granted when a request names no scope (default uid). */
  defaultScopes: z.array(ScopeName).default(['uid']),
  /**
   * Create the built-in public clients `zign` and `console` when they do not exist yet (default true).
   * Existing ones are not overwritten at start, so operators' changes survive restarts; only
   * configured redirect URIs they lack are added.
   */
  seedBuiltInClients: z.boolean().default(true),
  /** Redirect URIs the built-in `zign` client is created with (default http://localhost:8081, as Zign uses). */
  zignRedirectUris: z.array(z.url()).default(['http://localhost:8081']),
  /** Redirect URIs the built-in `console` client is created with (default none: the console's URL is deployment-specific). */
  consoleRedirectUris: z.array(z.url()).default([]),
  /** Client used for the legacy Zign 1.0 `GET /oauth2/access_token` (default zign). */
  legacyClientId: z.string().min(1).default('zign'),
  /**
   * Revocations made by other replicas are picked up within this time (default 5 s); revocations
   * made through this process are visible at once.
   */
  revocationRefreshSeconds: seconds(5),
  /**
   * Tokens of a user disabled in the user service (or of a disabled service user) are refused by
   * every verifier within this time (default 5 s): each process asks again after it.
   */
  principalStatusCacheSeconds: seconds(5),
});

/** What callers pass: every field optional. */
export type TokenServiceConfig = z.input<typeof TokenServiceConfigSchema>;
/** The configuration with every default filled in. */
export type ResolvedTokenServiceConfig = z.output<typeof TokenServiceConfigSchema>;

/** Fills in defaults; throws a ConfigError listing every problem as `path: message`. */
export function resolveTokenServiceConfig(config: TokenServiceConfig = {}): ResolvedTokenServiceConfig {
  const result = TokenServiceConfigSchema.safeParse(config);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `token-service.${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}
