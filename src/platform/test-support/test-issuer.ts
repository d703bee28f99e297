import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Realm } from '../auth/principal.js';
import { TokenVerifier, type TrustedIssuer } from '../auth/token-verifier.js';

/**
 * A real signing issuer for tests of services other than the token service: real keys,
 * real signatures, and tokens shaped like the token service's (`typ: at+jwt`, `aud` naming
 * the platform, here the issuer URL), trusted under the same rules, so the verifier under test
 * runs exactly as in production.
 */
export interface TestIssuer {
  issuer: string;
  trusted: TrustedIssuer;
  verifier: TokenVerifier;
  publicJwk: JWK;
  token(options: {
    uid: string;
    realm?: Realm;
    scopes?: string[];
    expiresInSeconds?: number;
    clientId?: string;
    extraClaims?: Record<string, unknown>;
  }): Promise<string>;
}

export async function createTestIssuer(issuer = 'https://issuer.test'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256' };
  const trusted: TrustedIssuer = {
    issuer,
    keys: async () => publicKey,
    audience: issuer,
    requiredType: 'at+jwt',
  };
  return {
    issuer,
    trusted,
    publicJwk,
    verifier: new TokenVerifier({ issuers: [trusted] }),
    async token({
      uid,
      realm = 'employees',
      scopes = ['uid'],
      expiresInSeconds = 3600,
      clientId,
      extraClaims,
    }) {
      return new SignJWT({
        aud: issuer,
        realm: `/${realm}`,
        scope: scopes.join(' '),
        ...(clientId ? { client_id: clientId } : {}),
        grant_type: 'password',
        ...extraClaims,
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key', typ: 'at+jwt' })
        .setIssuer(issuer)
        .setSubject(uid)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
        .sign(privateKey);
    },
  };
}
