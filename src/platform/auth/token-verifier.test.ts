import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalIssuer, TokenVerifier } from './token-verifier.js';

/** A tiny OIDC issuer on loopback: discovery and JWKS, as a company IdP publishes them. */
async function startIdp() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
    } else if (req.url === '/keys') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sign = (claims: Record<string, unknown>, kid = 'idp-1') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  return { issuer, sign, server, requests: () => requests };
}

describe('TokenVerifier with an external OIDC issuer', () => {
  let idp: Awaited<ReturnType<typeof startIdp>>;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(() => new Promise<void>((r) => idp.server.close(() => r())));

  it('accepts the IdP tokens through discovery and JWKS, as employees by default', async () => {
    const verifier = new TokenVerifier({
      issuers: [externalIssuer({ issuer: idp.issuer, audience: 'stups' })],
    });
    const token = await idp.sign({ sub: 'jdoe', aud: 'stups', scp: ['uid', 'openid'] });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ uid: 'jdoe', realm: 'employees', issuer: idp.issuer });
    expect([...principal.scopes]).toEqual(['uid', 'openid']);
    // A second verification is served from the cache: no new request to the IdP.
    const before = idp.requests();
    await verifier.verify(token);
    expect(idp.requests()).toBe(before);
  });

  it('uses a configured uid claim and realm, and enforces the audience', async () => {
    const verifier = new TokenVerifier({
      issuers: [
        externalIssuer({
          issuer: idp.issuer,
          audience: 'stups',
          uidClaim: 'preferred_username',
          realm: 'services',
        }),
      ],
    });
    const ok = await idp.sign({ sub: 'x1', preferred_username: 'robot', aud: 'stups', scope: 'uid' });
    expect(await verifier.verify(ok)).toMatchObject({ uid: 'robot', realm: 'services' });
    const otherAudience = await idp.sign({ sub: 'x1', preferred_username: 'robot', aud: 'elsewhere' });
    await expect(verifier.verify(otherAudience)).rejects.toThrow('the access token claim "aud" is invalid');
    const noUid = await idp.sign({ sub: 'x1', aud: 'stups' });
    await expect(verifier.verify(noUid)).rejects.toThrow(
      'the access token has no "preferred_username" claim',
    );
  });

  it('rejects unknown keys and unknown issuers', async () => {
    const verifier = new TokenVerifier({ issuers: [externalIssuer({ issuer: idp.issuer })] });
    await expect(verifier.verify(await idp.sign({ sub: 'jdoe' }, 'rotated-away'))).rejects.toThrow(
      'the access token was signed with an unknown key',
    );
    const stranger = new TokenVerifier({ issuers: [] });
    await expect(stranger.verify(await idp.sign({ sub: 'jdoe' }))).rejects.toThrow(
      `tokens of issuer "${idp.issuer}" are not accepted`,
    );
    await expect(stranger.verify('not-a-jwt')).rejects.toThrow('the access token is not a valid JWT');
  });

  it('rejects revoked tokens even when cached', async () => {
    const revoked = new Set<string>();
    const verifier = new TokenVerifier({
      issuers: [externalIssuer({ issuer: idp.issuer })],
      isRevoked: async (jti) => revoked.has(jti),
    });
    const token = await idp.sign({ sub: 'jdoe', jti: 'token-1' });
    await verifier.verify(token);
    revoked.add('token-1');
    await expect(verifier.verify(token)).rejects.toThrow('the access token was revoked');
  });
});
