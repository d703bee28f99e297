import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyStore } from '../key-store.js';

/** The AWS session-tags claim STS reads from a web-identity token (IAM: "Passing session tags using AssumeRoleWithWebIdentity"). */
export const AWS_TAGS_CLAIM = 'https://aws.amazon.com/tags';

export interface WebIdentityTokenRequest {
  uid: string;
  teams: readonly string[];
}

/**
 * Signs the JWT STS exchanges in AssumeRoleWithWebIdentity. RS256 because AWS IAM OIDC providers
 * accept RS256 keys; the key is the token service's current RS256 key, published in its JWKS, which
 * is where STS fetches it (through the discovery document of `iss`).
 */
export async function mintWebIdentityToken(
  keys: Pick<KeyStore, 'signingKey'>,
  options: { issuer: string; audience: string; lifetimeSeconds: number; now: () => number },
  request: WebIdentityTokenRequest,
): Promise<{ token: string; expires: Date; jti: string }> {
  const key = await keys.signingKey('RS256');
  const iat = Math.floor(options.now() / 1000);
  const exp = iat + options.lifetimeSeconds;
  const jti = randomUUID();
  const token = await new SignJWT({
    amr: ['pwd'],
    // STS takes one value per session tag (multi-valued tags are not supported), so several teams
    // are one value joined with ':' (a character tag values allow; team ids cannot contain it).
    [AWS_TAGS_CLAIM]: {
      principal_tags: request.teams.length > 0 ? { team: [request.teams.join(':')] } : {},
      transitive_tag_keys: [],
    },
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setSubject(request.uid)
    .setAudience(options.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, expires: new Date(exp * 1000), jti };
}
