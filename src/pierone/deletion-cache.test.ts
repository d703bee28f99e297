import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { digestOfBytes } from './digest.js';
import { pieroneMigrations } from './migrations.js';
import { PierOneStore } from './store.js';

/** Two stores on one database stand for two replicas, each with its own in-memory caches. */
describeEachDatabase('deletion across replicas', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  it('a replica stops answering a deleted tag and manifest from its cache within the TTL', async () => {
    const ttl = 200;
    const deleting = new PierOneStore(getDatabase(), { immutableCacheTtlMs: ttl });
    const other = new PierOneStore(getDatabase(), { immutableCacheTtlMs: ttl });
    const content = Buffer.from(JSON.stringify({ schemaVersion: 2, note: 'cache test' }));
    const digest = digestOfBytes(content);
    await deleting.putManifest(
      {
        repository: 'stups/cached',
        digest,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        content,
        configDigest: undefined,
        subject: undefined,
        artifactType: undefined,
        annotations: undefined,
        scmSource: undefined,
        createdBy: 'alice',
      },
      { team: 'stups', artifact: 'cached', name: '1.0', mutable: false },
      async () => {},
    );
    // The other replica reads both, so both sit in its caches.
    expect(await other.tagDigest('stups', 'cached', '1.0')).toBe(digest);
    expect((await other.getManifest('stups/cached', digest))?.digest).toBe(digest);

    const burnt = await deleting.deleteManifest(
      'stups',
      'cached',
      digest,
      { by: 'admin', reason: 'test' },
      () => [],
      async () => {},
    );
    expect(burnt).toEqual({ tags: ['1.0'], unlinkedBlobs: [] });
    expect(await deleting.tagDigest('stups', 'cached', '1.0')).toBeUndefined();
    expect(await deleting.getManifest('stups/cached', digest)).toBeUndefined();

    await sleep(ttl + 50);
    expect(await other.tagDigest('stups', 'cached', '1.0')).toBeUndefined();
    expect(await other.getManifest('stups/cached', digest)).toBeUndefined();
    expect(await other.deletedTag('stups', 'cached', '1.0')).toMatchObject({
      deletedBy: 'admin',
      reason: 'test',
    });
  });
});
