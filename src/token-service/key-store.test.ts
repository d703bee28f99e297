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

  it('publishes discovery and the JWKS under both paths', async () => {
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
      id_token_signing_alg_values_supported: ['ES256'],
    });
    const jwks = (await f.app.inject('/.well-known/jwks.json')).json();
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect((await f.app.inject('/oauth2/connect/keys')).json()).toEqual(jwks);
  });

  it('keeps private keys encrypted at rest', async () => {
    const rows = await f.db.selectFrom('token_signing_keys').select('private_jwk').execute();
    for (const row of rows) {
      expect(row.private_jwk.split('.')).toHaveLength(5);
      expect(row.private_jwk).not.toContain('"d"');
    }
  });

  it('rotates: new tokens use the new key, old tokens verify until they expire, then the old key goes', async () => {
    // The job the kernel's runner ticks; run here directly, with the clock moved instead of waiting.
    const maintenance = maintenanceJob(f.service, 60);
    const old = await passwordToken(f.app);
    const oldKid = decodeProtectedHeader(old.access_token).kid;
    f.clock.advance(601);
    expect(await maintenance.run()).toBeUndefined();
    const fresh = await passwordToken(f.app);
    const newKid = decodeProtectedHeader(fresh.access_token).kid;
    expect(newKid).not.toBe(oldKid);
    const kids = (await f.app.inject('/.well-known/jwks.json'))
      .json()
      .keys.map((k: { kid: string }) => k.kid);
    expect(kids.sort()).toEqual([oldKid, newKid].sort());

    // Another service's verifier that trusts the token service accepts both.
    const other = new TokenVerifier({ issuers: [f.service.trustedIssuer], now: f.clock.now });
    expect((await other.verify(old.access_token)).uid).toBe('jdoe');
    expect((await other.verify(fresh.access_token)).uid).toBe('jdoe');
    expect((await f.verifier.verify(fresh.access_token)).uid).toBe('jdoe');

    // Once every token of the old key has expired (lifetime + grace), the key is deleted.
    f.clock.advance(3600 + 5 * 60 + 1);
    await maintenance.run();
    const left = (await f.app.inject('/.well-known/jwks.json'))
      .json()
      .keys.map((k: { kid: string }) => k.kid);
    // The rotation age passed again meanwhile, so a third key signs now; the second stays published.
    expect(left).toHaveLength(2);
    expect(left).toContain(newKid);
    expect(left).not.toContain(oldKid);
    await expect(f.verifier.verify(old.access_token)).rejects.toThrow();
    const created = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.signing_key.create',
      limit: 5,
    });
    expect(created).toHaveLength(3);
    const deleted = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.signing_key.delete',
      limit: 5,
    });
    expect(deleted[0]).toMatchObject({ outcome: 'success', details: { count: 1 } });
  });
});
