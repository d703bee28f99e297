import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { allowsAnonymousPull, parsePierOneConfig } from './config.js';
import { pieroneMigrations } from './migrations.js';
import { call, putManifest, rawImage } from './test-support/http.js';
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

describeEachDatabase('Pier One public teams', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  beforeAll(async () => {
    // Team stups is public; team other is not.
    reg = await startTestRegistry(getDatabase(), { publicTeams: ['stups'] });
    for (const [token, repo] of [
      [reg.tokens.alice, 'stups/app'],
      [reg.tokens.bob, 'other/app'],
    ] as const) {
      const image = await rawImage(reg, token, repo);
      expect((await putManifest(reg, token, repo, '1.0', image.manifest)).status).toBe(201);
    }
  });
  afterAll(() => reg?.close());

  it('lets anyone pull from a public team, and only from it', async () => {
    expect((await call(reg, 'GET', '/v2/stups/app/manifests/1.0')).status).toBe(200);
    expect((await call(reg, 'GET', '/teams/stups/artifacts/app/tags')).status).toBe(200);
    const closed = await call(reg, 'GET', '/v2/other/app/manifests/1.0');
    expect(closed.status).toBe(401);
    expect(closed.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect((await call(reg, 'GET', '/teams/other/artifacts/app/tags')).status).toBe(401);
    // Listing across teams stays closed.
    expect((await call(reg, 'GET', '/v2/_catalog')).status).toBe(401);
  });

  it('never lets anyone push anonymously, public or not', async () => {
    const upload = await call(reg, 'POST', '/v2/stups/app/blobs/uploads/');
    expect(upload.status).toBe(401);
  });
});

it('reads the switches: all teams, listed teams, or none', () => {
  expect(allowsAnonymousPull(parsePierOneConfig({}), 'stups')).toBe(false);
  expect(allowsAnonymousPull(parsePierOneConfig({ publicTeams: ['stups'] }), 'stups')).toBe(true);
  expect(allowsAnonymousPull(parsePierOneConfig({ publicTeams: ['stups'] }), undefined)).toBe(false);
  expect(allowsAnonymousPull(parsePierOneConfig({ anonymousPull: true }), undefined)).toBe(true);
});
