import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
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
  const sign = (claims: Record<string, unknown>, kid = 'idp-1', typ?: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, ...(typ ? { typ } : {}) })
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
    const verifier = new TokenVerifier({
      issuers: [externalIssuer({ issuer: idp.issuer, audience: 'stups' })],
    });
    await expect(
      verifier.verify(await idp.sign({ sub: 'jdoe', aud: 'stups' }, 'rotated-away')),
    ).rejects.toThrow('the access token was signed with an unknown key');
    const stranger = new TokenVerifier({ issuers: [] });
    await expect(stranger.verify(await idp.sign({ sub: 'jdoe' }))).rejects.toThrow(
      `tokens of issuer "${idp.issuer}" are not accepted`,
    );
    await expect(stranger.verify('not-a-jwt')).rejects.toThrow('the access token is not a valid JWT');
  });

  it('rejects revoked tokens even when cached', async () => {
    const revoked = new Set<string>();
    const verifier = new TokenVerifier({
      issuers: [externalIssuer({ issuer: idp.issuer, audience: 'stups' })],
      isRevoked: async (jti) => revoked.has(jti),
    });
    const token = await idp.sign({ sub: 'jdoe', aud: 'stups', jti: 'token-1' });
    await verifier.verify(token);
    revoked.add('token-1');
    await expect(verifier.verify(token)).rejects.toThrow('the access token was revoked');
  });

  it('refuses an external issuer without an audience as a configuration error', () => {
    const configure = () => externalIssuer({ issuer: idp.issuer } as never);
    expect(configure).toThrow(ConfigError);
    expect(configure).toThrow(/audience/);
  });

  it('does not believe a realm claim of an external issuer; realms come from the configuration', async () => {
    const fixed = new TokenVerifier({ issuers: [externalIssuer({ issuer: idp.issuer, audience: 'stups' })] });
    const claimsServices = await idp.sign({ sub: 'jdoe', aud: 'stups', realm: '/services' });
    expect(await fixed.verify(claimsServices)).toMatchObject({ uid: 'jdoe', realm: 'employees' });

    const mapped = new TokenVerifier({
      issuers: [
        externalIssuer({
          issuer: idp.issuer,
          audience: 'stups',
          realmClaim: { claim: 'kind', values: { staff: 'employees', robot: 'services' } },
        }),
      ],
    });
    expect(await mapped.verify(await idp.sign({ sub: 'r2', aud: 'stups', kind: 'robot' }))).toMatchObject({
      realm: 'services',
    });
    for (const claims of [{ kind: 'admin' }, { kind: '__proto__' }, {}, { realm: '/services' }]) {
      await expect(mapped.verify(await idp.sign({ sub: 'x', aud: 'stups', ...claims }))).rejects.toThrow(
        'the access token has no realm this installation knows',
      );
    }
  });

  it('gives up on a hanging IdP after the configured timeout', async () => {
    const hanging: Server = createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;
    try {
      for (const config of [{ issuer: base }, { issuer: base, jwksUri: `${base}/keys` }]) {
        const verifier = new TokenVerifier({
          issuers: [externalIssuer({ ...config, audience: 'stups', timeoutMs: 200 })],
        });
        const token = await new SignJWT({ sub: 'jdoe', aud: 'stups' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k' })
          .setIssuer(base)
          .setExpirationTime('1m')
          .sign((await generateKeyPair('RS256')).privateKey);
        const started = Date.now();
        await expect(verifier.verify(token)).rejects.toThrow(/could not be verified/);
        expect(Date.now() - started).toBeLessThan(3000);
      }
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((r) => hanging.close(() => r()));
    }
  });
});

describe('TokenVerifier with a required typ', () => {
  it('accepts only tokens of the required JOSE type (RFC 9068 at+jwt)', async () => {
    const idp = await startIdp();
    try {
      const verifier = new TokenVerifier({
        issuers: [{ ...externalIssuer({ issuer: idp.issuer, audience: 'stups' }), requiredType: 'at+jwt' }],
      });
      const claims = { sub: 'jdoe', aud: 'stups' };
      expect((await verifier.verify(await idp.sign(claims, 'idp-1', 'at+jwt'))).uid).toBe('jdoe');
      for (const typ of ['JWT', undefined]) {
        await expect(verifier.verify(await idp.sign(claims, 'idp-1', typ))).rejects.toThrow(
          'the token is not an access token (wrong "typ" header)',
        );
      }
    } finally {
      await new Promise<void>((r) => idp.server.close(() => r()));
    }
  });
});
