import { describeEachDatabase } from '../platform/test-support/databases.js';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenVerifier } from '../platform/auth/token-verifier.js';
import {
  createFixture,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';
import { maintenanceJob } from './module.js';

describeEachDatabase('signing keys, JWKS and discovery', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase(), {
      keyEncryptionSecret: 'a-long-key-encryption-secret',
      keyRotationAgeSeconds: 600,
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('publishes discovery and the JWKS under both paths, with an ES256 and an RS256 key', async () => {
    const issuer = f.ctx.urls['token-service'];
    const discovery = (await f.app.inject('/.well-known/openid-configuration')).json();
    expect(discovery).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/oauth2/access_token`,
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      device_authorization_endpoint: `${issuer}/oauth2/device_authorization`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      introspection_endpoint: `${issuer}/oauth2/introspect`,
      revocation_endpoint: `${issuer}/oauth2/revoke`,
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    });
    const answer = await f.app.inject('/.well-known/jwks.json');
    expect(answer.headers['cache-control']).toBe('public, max-age=300');
    const jwks = answer.json();
    const byAlg = Object.fromEntries(jwks.keys.map((k: { alg: string }) => [k.alg, k]));
    expect(Object.keys(byAlg).sort()).toEqual(['ES256', 'RS256']);
    expect(Object.keys(byAlg.ES256).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(Object.keys(byAlg.RS256).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect((await f.app.inject('/oauth2/connect/keys')).json()).toEqual(jwks);
  });

  it('keeps private keys encrypted at rest', async () => {
    const rows = await f.db.selectFrom('token_signing_keys').select('private_jwk').execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.private_jwk.split('.')).toHaveLength(5);
      expect(row.private_jwk).not.toContain('"d"');
    }
  });

  it('stores the first keys, generated together, once each: one row and one audit event per algorithm, distinct kids', async () => {
    const rows = await f.db.selectFrom('token_signing_keys').select(['kid', 'alg']).execute();
    expect(rows.map((r) => r.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(new Set(rows.map((r) => r.kid)).size).toBe(2);
    const created = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.signing_key.create',
      limit: 10,
    });
    expect(created.map((e) => e.target_id).sort()).toEqual(rows.map((r) => r.kid).sort());
  });

  it('rotates both keys; a new key is in the JWKS for its cache lifetime before it signs; old tokens verify until they expire', async () => {
    // The job the kernel's runner ticks; run here directly, with the clock moved instead of waiting.
    const maintenance = maintenanceJob(f.service, 60);
    const publishedKids = async () =>
      (await f.app.inject('/.well-known/jwks.json'))
        .json()
        .keys.map((k: { kid: string }) => k.kid) as string[];
    const old = await passwordToken(f.app);
    const oldKid = decodeProtectedHeader(old.access_token).kid!;
    const before = await publishedKids();
    f.clock.advance(601);
    expect(await maintenance.run()).toBeUndefined();
    const afterRotation = await publishedKids();
    const added = afterRotation.filter((kid) => !before.includes(kid));
    // One successor per algorithm, published at once next to its predecessor.
    expect(added).toHaveLength(2);
    expect(afterRotation).toHaveLength(4);

    // Counted in seconds of the test clock: the old key signs until the new one was published for
    // the JWKS max-age (300 s) plus one key reload of other replicas (60 s).
    let waited = 0;
    let fresh = await passwordToken(f.app);
    while (decodeProtectedHeader(fresh.access_token).kid === oldKid) {
      f.clock.advance(30);
      waited += 30;
      fresh = await passwordToken(f.app);
    }
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBe(360);
    const newKid = decodeProtectedHeader(fresh.access_token).kid!;
    expect(added).toContain(newKid);
    expect(await publishedKids()).toEqual(expect.arrayContaining([oldKid, newKid]));

    // Another service's verifier that trusts the token service accepts both.
    const other = new TokenVerifier({ issuers: [f.service.trustedIssuer], now: f.clock.now });
    expect((await other.verify(old.access_token)).uid).toBe('jdoe');
    expect((await other.verify(fresh.access_token)).uid).toBe('jdoe');
    expect((await f.verifier.verify(fresh.access_token)).uid).toBe('jdoe');

    // Once every token of the old keys has expired (lifetime + grace after they stopped signing),
    // they are deleted.
    f.clock.advance(3600 + 5 * 60 + 1);
    await maintenance.run();
    const left = await publishedKids();
    // The rotation age passed again meanwhile, so third keys are pre-published; the second stay.
    expect(left).toHaveLength(4);
    expect(left).toEqual(expect.arrayContaining(added));
    expect(left).not.toContain(oldKid);
    expect(left.filter((kid) => before.includes(kid))).toEqual([]);
    await expect(f.verifier.verify(old.access_token)).rejects.toThrow();
    const created = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.signing_key.create',
      limit: 10,
    });
    expect(created).toHaveLength(6);
    expect(created.filter((e) => (e.details as { alg?: string }).alg === 'RS256')).toHaveLength(3);
    const deleted = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.signing_key.delete',
      limit: 5,
    });
    expect(deleted[0]).toMatchObject({ outcome: 'success', details: { count: 2, idsOmitted: 0 } });
    expect((deleted[0]?.details as { ids: string[] }).ids).toContain(oldKid);
  });

  it('rotates nothing while no key is due', async () => {
    const count = async () => (await f.db.selectFrom('token_signing_keys').select('kid').execute()).length;
    const keys = await count();
    await f.service.maintain();
    expect(await count()).toBe(keys);
  });
});
