import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
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

  it('copies a blob or a range of it into a writable, reusing buffers', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const { digest } = await store.put(pieces(data, 65_536));
    const collect = async (range?: { start: number; end: number }) => {
      const chunks: Buffer[] = [];
      const out = new PassThrough();
      out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
      await store.copyTo(digest, range, out);
      return Buffer.concat(chunks);
    };
    expect((await collect()).equals(data)).toBe(true);
    expect(
      (await collect({ start: 1_000_000, end: 2_500_000 })).equals(data.subarray(1_000_000, 2_500_001)),
    ).toBe(true);
    await expect(
      store.copyTo(sha256(Buffer.from('none')), undefined, new PassThrough()),
    ).rejects.toMatchObject({
      code: 'BLOB_UNKNOWN',
    });
  });

  it('purges uploads that went stale', async () => {
    const id = await store.uploads.create();
    expect(await store.uploads.purgeStale(60_000, Date.now() + 120_000)).toBeGreaterThanOrEqual(1);
    expect(await store.uploads.size(id)).toBeUndefined();
  });
});
