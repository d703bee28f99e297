import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createFixture, TOKEN_SERVICE_TEST_MIGRATIONS, type TokenServiceFixture } from './test-support.js';

/** Issue 12 §6: built-in clients are created on first start and never overwritten later. */
describeEachDatabase('built-in OAuth clients', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let first: TokenServiceFixture;
  beforeAll(async () => {
    first = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await first?.close();
  });

  it('keeps operator changes to zign and console across a restart, adding only missing redirect URIs', async () => {
    const zign = await first.service.getClient('zign');
    expect(zign).toMatchObject({ type: 'public', redirectUris: ['http://localhost:8081'], disabled: false });
    await first.service.upsertClient({
      ...zign!,
      redirectUris: ['http://localhost:8081', 'http://127.0.0.1:9000/cb'],
      scopes: ['uid'],
    });
    const consoleClient = await first.service.getClient('console');
    await first.service.upsertClient({ ...consoleClient!, disabled: true });

    // A restart: a new token service over the same database, with a console at another URL.
    const restarted = await createFixture(getDatabase(), {
      consoleRedirectUris: ['https://console.example.org/callback', 'https://console.new.example.org/cb'],
    });
    try {
      expect(await restarted.service.getClient('zign')).toMatchObject({
        redirectUris: ['http://localhost:8081', 'http://127.0.0.1:9000/cb'],
        scopes: ['uid'],
      });
      expect(await restarted.service.getClient('console')).toMatchObject({
        disabled: true,
        redirectUris: ['https://console.example.org/callback', 'https://console.new.example.org/cb'],
      });
    } finally {
      await restarted.close();
    }
  });
});
