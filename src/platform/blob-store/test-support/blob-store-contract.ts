import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore } from '../blob-store.js';
import { DigestCounter, digestOf } from '../hashing.js';
import { UploadOffsetError } from '../upload-sessions.js';

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Uint8Array): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

/** Reads a stream to one buffer: only for small test blobs. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Yields `data` in pieces of `size` bytes, like a socket would. */
export function pieces(data: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

/** The behaviour every BlobStore must show; each store's test calls this with its own instance. */
export function blobStoreContract(getStore: () => BlobStore): void {
  it('stores a streamed blob under its digest and reads it back whole and by range', async () => {
    const store = getStore();
    const data = randomBytes(300_000);
    const digest = sha256(data);
    expect(await store.exists(digest)).toBe(false);
    const info = await store.put(pieces(data, 65_536), { digest, size: data.length });
    expect(info).toEqual({ digest, size: data.length });
    expect(await store.stat(digest)).toEqual({ digest, size: data.length });
    expect(await store.exists(digest)).toBe(true);
    expect((await readAll(await store.get(digest))).equals(data)).toBe(true);
    const part = await readAll(await store.get(digest, { start: 1000, end: 1999 }));
    expect(part.equals(data.subarray(1000, 2000))).toBe(true);
  });

  it('stores sha512 blobs apart from sha256 ones: put, sessions, chunks, list and delete', async () => {
    const store = getStore();
    const data = randomBytes(70_000);
    // The same bytes under two algorithms are two blobs.
    await store.put(pieces(data, 10_000), { digest: sha256(data) });
    expect(await store.put(pieces(data, 10_000), { digest: sha512(data), size: data.length })).toEqual({
      digest: sha512(data),
      size: data.length,
    });
    expect(await store.stat(sha512(data))).toEqual({ digest: sha512(data), size: data.length });
    expect(
      (await readAll(await store.get(sha512(data), { start: 5, end: 9 }))).equals(data.subarray(5, 10)),
    ).toBe(true);
    await expect(store.put(pieces(data, 10_000), { digest: sha512(randomBytes(3)) })).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
    });
    // An upload session hashed sha256 as it arrived: a sha512 commit hashes again.
    const other = randomBytes(20_000);
    const id = await store.uploads.create();
    await store.uploads.append(id, pieces(other, 3000));
    expect(await store.uploads.commit(id, sha512(other))).toEqual({
      digest: sha512(other),
      size: other.length,
    });
    // Chunks, unverified: hashed with sha512 while copied.
    const third = randomBytes(9000);
    const upload = randomUUID();
    const keys = [store.parts.newKey(upload), store.parts.newKey(upload)];
    await store.parts.write(keys[0]!, pieces(third.subarray(0, 4000), 1000));
    await store.parts.write(keys[1]!, pieces(third.subarray(4000), 1000));
    await expect(store.parts.publish(keys, { digest: sha512(other) }, false)).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
    });
    expect(await store.parts.publish(keys, { digest: sha512(third) }, false)).toEqual({
      digest: sha512(third),
      size: third.length,
    });
    await store.parts.remove(keys);
    const listed: string[] = [];
    for await (const page of store.list!()) listed.push(...page.map((b) => b.digest));
    expect(listed).toEqual(
      expect.arrayContaining([sha256(data), sha512(data), sha512(other), sha512(third)]),
    );
    expect(listed).toEqual([...listed].sort());
    expect(await store.delete!([sha512(data)])).toEqual([sha512(data)]);
    expect(await store.exists(sha512(data))).toBe(false);
    expect(await store.exists(sha256(data))).toBe(true);
    await expect(store.stat(`sha512:${'a'.repeat(64)}`)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    await expect(store.stat(`blake3:${'a'.repeat(64)}`)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
  });

  it('rejects content whose digest is not the announced one and publishes nothing', async () => {
    const store = getStore();
    const data = randomBytes(50_000);
    const claimed = sha256(randomBytes(10));
    await expect(store.put(pieces(data, 10_000), { digest: claimed })).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
    });
    expect(await store.exists(claimed)).toBe(false);
    expect(await store.exists(sha256(data))).toBe(false);
  });

  it('rejects a wrong announced size with SIZE_INVALID', async () => {
    const store = getStore();
    const data = randomBytes(1000);
    await expect(store.put(pieces(data, 100), { digest: sha256(data), size: 999 })).rejects.toMatchObject({
      code: 'SIZE_INVALID',
    });
    expect(await store.exists(sha256(data))).toBe(false);
  });

  it('stores content of unknown digest under the digest it hashes to', async () => {
    const store = getStore();
    const data = randomBytes(2000);
    expect(await store.put(pieces(data, 300))).toEqual({ digest: sha256(data), size: 2000 });
    expect((await readAll(await store.get(sha256(data)))).equals(data)).toBe(true);
  });

  it('fails reads of unknown blobs with BlobNotFoundError and refuses malformed digests', async () => {
    const store = getStore();
    const missing = sha256(Buffer.from('missing'));
    await expect(store.get(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.stat(missing)).toBeUndefined();
    await expect(store.stat('sha256:../../etc/passwd')).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
  });

  it('publishes a resumable upload only once complete and verified', async () => {
    const store = getStore();
    const data = randomBytes(200_000);
    const digest = sha256(data);
    const id = await store.uploads.create();
    expect(await store.uploads.size(id)).toBe(0);
    expect(await store.uploads.append(id, pieces(data.subarray(0, 70_000), 8192), 0)).toBe(70_000);
    await expect(store.uploads.append(id, pieces(data.subarray(0, 10), 10), 5)).rejects.toBeInstanceOf(
      UploadOffsetError,
    );
    expect(await store.exists(digest)).toBe(false);
    const info = await store.uploads.commit(id, digest, {
      source: pieces(data.subarray(70_000), 8192),
      offset: 70_000,
    });
    expect(info).toEqual({ digest, size: data.length });
    expect(await digestOf(await store.get(digest))).toEqual(info);
    expect(await store.uploads.size(id)).toBeUndefined();
  });

  it('resumes after a piece failed half-way, hashing the received bytes again', async () => {
    const store = getStore();
    const data = randomBytes(100_000);
    const id = await store.uploads.create();
    const failing = Readable.from(
      (async function* () {
        yield data.subarray(0, 30_000);
        throw new Error('client went away');
      })(),
    );
    await expect(store.uploads.append(id, failing, 0)).rejects.toThrow('client went away');
    // Bytes still buffered when the source failed may be lost; the reported size is the truth.
    const received = (await store.uploads.size(id)) ?? -1;
    expect(received).toBeGreaterThanOrEqual(0);
    expect(received).toBeLessThanOrEqual(30_000);
    await store.uploads.append(id, pieces(data.subarray(received), 4096), received);
    expect(await store.uploads.commit(id, sha256(data))).toEqual({ digest: sha256(data), size: 100_000 });
  });

  it('deletes an upload whose digest does not match and publishes nothing', async () => {
    const store = getStore();
    const data = randomBytes(10_000);
    const id = await store.uploads.create();
    await store.uploads.append(id, pieces(data, 1000));
    const wrong = sha256(Buffer.from('other'));
    await expect(store.uploads.commit(id, wrong)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect(await store.exists(wrong)).toBe(false);
    expect(await store.exists(sha256(data))).toBe(false);
    expect(await store.uploads.size(id)).toBeUndefined();
  });

  it('lists published blobs in digest order with size and time written, and deletes them (garbage collection)', async () => {
    const store = getStore();
    const blobs = [randomBytes(10), randomBytes(2000), randomBytes(77)];
    const digests = blobs.map(sha256);
    for (const data of blobs) await store.put(pieces(data, 1000), { digest: sha256(data) });
    const listed: Array<{ digest: string; size: number; modified: Date }> = [];
    // One page: s3rver fails on truncated listings (real S3 pages by StartAfter).
    for await (const page of store.list!()) listed.push(...page);
    const order = listed.map((b) => b.digest);
    expect(order).toEqual([...order].sort());
    for (const [i, digest] of digests.entries()) {
      const entry = listed.find((b) => b.digest === digest);
      expect(entry?.size).toBe(blobs[i]!.length);
      expect(Date.now() - entry!.modified.getTime()).toBeLessThan(10 * 60_000);
    }
    const absent = sha256(randomBytes(5));
    const gone = await store.delete!([digests[0]!, digests[1]!, absent]);
    expect(gone.sort()).toEqual([digests[0]!, digests[1]!, absent].sort());
    expect(await store.exists(digests[0]!)).toBe(false);
    expect(await store.exists(digests[1]!)).toBe(false);
    expect(await store.exists(digests[2]!)).toBe(true);
    const after: string[] = [];
    for await (const page of store.list!()) after.push(...page.map((b) => b.digest));
    expect(after).not.toContain(digests[0]);
    expect(after).toContain(digests[2]);
  });

  it('keeps upload chunks as objects of their own and publishes them in order, verified or hashed', async () => {
    const store = getStore();
    const upload = randomUUID();
    const data = randomBytes(300_000);
    const keys = [store.parts.newKey(upload), store.parts.newKey(upload), store.parts.newKey(upload)];
    const counter = new DigestCounter();
    expect(await store.parts.write(keys[0]!, pieces(data.subarray(0, 1), 1), counter)).toBe(1);
    expect(await store.parts.write(keys[1]!, pieces(data.subarray(1, 200_000), 7000), counter)).toBe(199_999);
    expect(await store.parts.write(keys[2]!, pieces(data.subarray(200_000), 4096), counter)).toBe(100_000);
    expect(counter.copy().digest()).toBe(sha256(data));
    expect(await readAll(await store.parts.read(keys[1]!))).toEqual(data.subarray(1, 200_000));

    // Not verified by the caller: hashed while copied, and refused when it does not match.
    const wrong = { digest: sha256(Buffer.from('other')), size: data.length };
    await expect(store.parts.publish(keys, wrong, false)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect(await store.exists(wrong.digest)).toBe(false);
    expect(await store.parts.publish(keys, { digest: sha256(data), size: data.length }, false)).toEqual({
      digest: sha256(data),
      size: data.length,
    });
    expect(await readAll(await store.get(sha256(data)))).toEqual(data);
    await store.parts.remove(keys);
    // Gone: S3 refuses the read, a file stream fails on its first read.
    await expect((async () => readAll(await store.parts.read(keys[0]!)))()).rejects.toBeDefined();

    // One chunk the caller hashed as it arrived: published without reading it again.
    const single = randomBytes(50_000);
    const key = store.parts.newKey(upload);
    await store.parts.write(key, pieces(single, 5000));
    const info = { digest: sha256(single), size: single.length };
    expect(await store.parts.publish([key], info, true)).toEqual(info);
    expect(await readAll(await store.get(info.digest))).toEqual(single);
    await store.parts.remove([key]);
    expect(await store.exists(info.digest)).toBe(true);
  });

  it('refuses chunk keys it did not make', () => {
    const store = getStore();
    expect(() => store.parts.newKey('../../etc')).toThrow('is unknown');
    return expect(store.parts.read('../blobs/x')).rejects.toThrow('is not an upload part key');
  });
}
