import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { REALMS, type Realm } from './principal.js';
import type { TrustedIssuer } from './token-verifier.js';

const RealmName = z.enum(REALMS as [Realm, ...Realm[]]);

/**
 * An external OIDC issuer (e.g. the company's IdP) whose tokens this installation accepts.
 * Its claims are not this installation's: the audience must name us, and the realm comes from
 * this configuration, never from a `realm` claim the issuer happens to write.
 */
export const ExternalIssuerConfigSchema = z.strictObject({
  /** Exact `iss` of its tokens. */
  issuer: z.url(),
  /** Where its keys are; default: the `jwks_uri` of its discovery document. */
  jwksUri: z.url().optional(),
  /**
   * Required `aud` of its tokens: without one, a token the issuer signed for any other
   * application would be accepted here.
   */
  audience: z
    .string({ error: 'is required: name the audience its tokens carry for this installation' })
    .min(1),
  /** The realm of every token of this issuer unless `realmClaim` says otherwise (default employees). */
  realm: RealmName.default('employees'),
  /**
   * Takes the realm from a claim instead, through an explicit table of claim values, e.g.
   * `{claim: "groups_realm", values: {"staff": "employees", "robots": "services"}}`. A token
   * without the claim or with an unlisted value is refused.
   */
  realmClaim: z
    .strictObject({ claim: z.string().min(1), values: z.record(z.string(), RealmName) })
    .optional(),
  /** Claim holding the user id (default `sub`); e.g. `preferred_username` for some IdPs. */
  uidClaim: z.string().min(1).optional(),
  /** Time limit of each discovery and JWKS request, in milliseconds (default 5000). */
  timeoutMs: z.number().int().positive().max(60_000).default(5000),
});

export type ExternalIssuerConfig = z.input<typeof ExternalIssuerConfigSchema>;

/**
 * Trusts an external OIDC issuer: keys come from its JWKS, found through discovery unless
 * `jwksUri` is given. Discovery happens on first use, so start-up does not depend on the IdP;
 * every request to the IdP is bounded by `timeoutMs`, so a hanging IdP cannot hang requests.
 * Throws a ConfigError listing every problem of `input`.
 */
export function externalIssuer(input: ExternalIssuerConfig, fetchImpl: typeof fetch = fetch): TrustedIssuer {
  const parsed = ExternalIssuerConfigSchema.safeParse(input);
  if (!parsed.success) {
    const name = typeof input.issuer === 'string' ? input.issuer : '(unnamed)';
    throw new ConfigError(
      parsed.error.issues.map((i) => `external issuer ${name}: ${i.path.join('.') || '(root)'} ${i.message}`),
    );
  }
  const config = parsed.data;
  let keySet: JWTVerifyGetKey | undefined;
  const keys: JWTVerifyGetKey = async (header, token) => {
    if (!keySet) {
      let jwksUri = config.jwksUri;
      if (!jwksUri) {
        const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
        const response = await fetchImpl(url, { signal: AbortSignal.timeout(config.timeoutMs) });
        if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
        const discovery = (await response.json()) as { jwks_uri?: unknown };
        if (typeof discovery.jwks_uri !== 'string')
          throw new Error(`OIDC discovery at ${url} has no jwks_uri`);
        jwksUri = discovery.jwks_uri;
      }
      keySet = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: config.timeoutMs });
    }
    return keySet(header, token);
  };
  return {
    issuer: config.issuer,
    keys,
    audience: config.audience,
    realmOf: realmMapping(config.realm, config.realmClaim),
    uidClaim: config.uidClaim,
  };
}

function realmMapping(
  fixed: Realm,
  fromClaim: { claim: string; values: Record<string, Realm> } | undefined,
): (claims: JWTPayload) => Realm | undefined {
  if (!fromClaim) return () => fixed;
  return (claims) => {
    const value = claims[fromClaim.claim];
    return typeof value === 'string' && Object.hasOwn(fromClaim.values, value)
      ? fromClaim.values[value]
      : undefined;
  };
}
