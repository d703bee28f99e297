import { z } from 'zod';
import { secret } from '../platform/settings/schema-walk.js';
import { AwsIdpSettingsSchema } from './aws/settings.js';

/** Signing algorithms the key store can generate; ES256 is the default (small keys, fast signing). */
export const SIGNING_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** `*`, or an origin: scheme, host and port only (what a browser sends in `Origin`). */
const CorsOrigin = z.string().refine((value) => {
  if (value === '*') return true;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, 'must be "*" or an origin such as https://app.example.org (no path, no trailing slash)');
const ScopeName = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be an OAuth scope token');

/**
 * Every setting of the token service, each with its default. `stups up` reads them from the
 * `token-service:` section of the settings tree; `keyEncryptionSecret` and `csrfSecret` are
 * derived from the installation secret there (see TokenServiceSettingsSchema).
 */
export const TokenServiceConfigSchema = z.strictObject({
  accessTokenLifetimeSeconds: seconds(3600).describe('Lifetime of access tokens, in seconds'),
  refreshTokenLifetimeSeconds: seconds(30 * 24 * 3600).describe(
    'Lifetime of a refresh token; each rotation issues a new one with a fresh lifetime',
  ),
  authorizationCodeLifetimeSeconds: seconds(60).describe(
    'Lifetime of an authorization code (RFC 6749 recommends at most 10 minutes)',
  ),
  sessionLifetimeSeconds: seconds(12 * 3600).describe(
    "Longest life of an employee's sign-in session at the token service (single sign-on for the console and other clients); after it the password is asked again",
  ),
  sessionIdleTimeoutSeconds: seconds(2 * 3600).describe(
    'A sign-in session not used by any authorization request for this long ends',
  ),
  deviceCodeLifetimeSeconds: seconds(600).describe('Lifetime of a device code / user code pair'),
  devicePollIntervalSeconds: seconds(5).describe('Minimum polling interval of the device flow (RFC 8628)'),
  signingAlgorithm: z
    .enum(SIGNING_ALGORITHMS)
    .default('ES256')
    .describe(
      'Algorithm of access tokens; the key store also keeps an RS256 and an ES256 key for ID tokens (per client `idTokenSignedResponseAlg`)',
    ),
  keyRotationAgeSeconds: seconds(7 * 24 * 3600).describe(
    'A new signing key is created once the current one is older than this',
  ),
  jwksCacheSeconds: seconds(300).describe(
    'Cache-Control max-age of the JWKS; a new signing key is published this long (plus one key reload, 60 s) before it signs anything',
  ),
  accessTokenAudience: z
    .string()
    .min(1)
    .optional()
    .describe(
      "`aud` of access tokens for this installation's own services, which every service's verifier requires (RFC 9068 §2.2); default: the token service's URL (the issuer)",
    ),
  resourceIndicators: z
    .array(z.url().refine((u) => !u.includes('#'), 'must not have a fragment (RFC 8707 §2)'))
    .default([])
    .describe(
      'Other resource servers a client may name in `resource` (RFC 8707): the token then carries that `aud` instead and is refused by the platform services; anything else is `invalid_target`',
    ),
  tokensWithoutAudienceIssuedBefore: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'Access tokens of this issuer without `aud` (issued before the upgrade that added it) are still accepted when issued before this instant; set it to the upgrade time while rolling out, remove it an access-token lifetime later',
    ),
  maintenanceIntervalSeconds: seconds(300).describe(
    'How often keys are rotated when due and expired keys, codes and tokens deleted',
  ),
  keyEncryptionSecret: secret(z.string().min(16))
    .optional()
    .describe(
      'Secret the key encrypting private signing keys at rest is derived from; without it keys are stored as plain JWK',
    ),
  maxFailedLogins: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe(
      'Failed logins for one account from one source address before that pair is refused for a while; a refusal reads exactly like a wrong password',
    ),
  maxFailedLoginsPerSource: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('Failed logins from one source address, over all accounts, before the source is refused'),
  maxFailedLoginsPerAccount: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'Failed logins for one account from all sources before the account is refused: high, so locking a named user out takes many addresses',
    ),
  maxFailedClientAuthentications: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe(
      'Failed client authentications for one client from one source address before that pair is refused',
    ),
  failedLoginWindowSeconds: seconds(900).describe(
    'The window failed logins and client authentications are counted in, and the longest lock-out',
  ),
  csrfSecret: secret(z.string().min(16))
    .optional()
    .describe('Secret for CSRF tokens of the HTML pages; a random one per process when absent'),
  employeeScopes: z
    .array(ScopeName)
    .default(['uid', 'openid', 'email', 'profile', 'offline_access'])
    .describe('Scopes an employee may request'),
  defaultScopes: z.array(ScopeName).default(['uid']).describe('Granted when a request names no scope'),
  unallowedScopes: z
    .enum(['narrow', 'refuse'])
    .default('narrow')
    .describe(
      'A token request naming scopes the user or client may not have (RFC 6749 §3.3): `narrow` grants the allowed ones and answers with the granted `scope` (STUPS CLIs send fixed scope lists), `refuse` answers `invalid_scope`; a request with no allowed scope at all is always refused',
    ),
  seedBuiltInClients: z
    .boolean()
    .default(true)
    .describe(
      'Create the built-in public clients `zign` and `console` when they do not exist yet; existing ones are not overwritten (only configured redirect URIs they lack are added)',
    ),
  zignRedirectUris: z
    .array(z.url())
    .default(['http://localhost:8081'])
    .describe('Redirect URIs the built-in `zign` client is created with'),
  consoleRedirectUris: z
    .array(z.url())
    .default([])
    .describe("Redirect URIs of the built-in `console` client besides the console's own callback"),
  corsAllowedOrigins: z
    .array(CorsOrigin)
    .default([])
    .describe(
      "Origins of browser apps that may call the token endpoint, introspection, revocation and userinfo from other sites (CORS), besides the console's own; `*` opens only the public discovery documents and JWKS to every origin",
    ),
  legacyClientId: z
    .string()
    .min(1)
    .default('zign')
    .describe('Client used for the legacy Zign 1.0 `GET /oauth2/access_token`'),
  revocationRefreshSeconds: seconds(5).describe(
    'Revocations made by other replicas are picked up within this time; those made here at once',
  ),
  principalStatusCacheSeconds: seconds(5).describe(
    'Tokens of a user disabled in the user service (or of a disabled service user) are refused by every verifier within this time',
  ),
  aws: AwsIdpSettingsSchema.prefault({}).describe(
    'The token service as identity provider of AWS: role mapping and web-identity tokens (docs/aws-access.md)',
  ),
});

/**
 * The token service's section of the settings tree. The two secrets are not in it: `stups up`
 * derives both from the installation secret, the same on every replica.
 */
export const TokenServiceSettingsSchema = TokenServiceConfigSchema.omit({
  keyEncryptionSecret: true,
  csrfSecret: true,
});
export type TokenServiceSettings = z.output<typeof TokenServiceSettingsSchema>;
