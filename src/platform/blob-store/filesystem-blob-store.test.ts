import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFilesystemBlobStore, type FilesystemBlobStore } from './filesystem-blob-store.js';
import { blobStoreContract, pieces, sha256 } from './test-support/blob-store-contract.js';

describe('FilesystemBlobStore', () => {
  let root: string;
  let store: FilesystemBlobStore;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'blob-store-'));
    store = await createFilesystemBlobStore({ root });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  blobStoreContract(() => store);

  it('leaves no temporary file behind after a rejected write', async () => {
    const data = randomBytes(5000);
    await expect(store.put(pieces(data, 500), { digest: sha256(Buffer.from('x')) })).rejects.toThrow();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('purges uploads that went stale', async () => {
    const id = await store.uploads.create();
    expect(await store.uploads.purgeStale(60_000, Date.now() + 120_000)).toBeGreaterThanOrEqual(1);
    expect(await store.uploads.size(id)).toBeUndefined();
  });
});
