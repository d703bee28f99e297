import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  algorithmOf,
  BLOB_ALGORITHMS,
  type BlobInfo,
  BlobNotFoundError,
  type BlobStore,
  type ByteRange,
  type ExpectedBlob,
  type StoredBlob,
  verifyExpected,
} from './blob-store.js';
import { writeToFile } from './file-writer.js';
import { DigestCounter } from './hashing.js';
import { assertPartKey, newPartKey, publishByCopy, type UploadParts } from './upload-parts.js';
import { UploadSessions } from './upload-sessions.js';

export interface FilesystemBlobStoreOptions {
  /** Directory holding `blobs/`, `tmp/`, `uploads/` and `upload-parts/` (created when missing). */
  root: string;
  /**
   * Flush file data to disk before a blob is published (default true), so a crash never leaves
   * a published but empty blob behind.
   */
  fsync?: boolean;
  /** Read buffer of downloads in bytes (default 1 MiB): large chunks are what makes them fast. */
  readChunkBytes?: number;
}

/**
 * Blobs as files under `<root>/blobs/sha256/<first two hex>/<hex>`. Writers go to `<root>/tmp`
 * and are renamed into place once the digest matched; a rename within one filesystem is atomic.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly kind = 'filesystem' as const;
  readonly uploads: UploadSessions;
  readonly parts: UploadParts;
  readonly #root: string;
  readonly #fsync: boolean;
  readonly #chunk: number;

  constructor(options: FilesystemBlobStoreOptions) {
    this.#root = options.root;
    this.#fsync = options.fsync ?? true;
    this.#chunk = options.readChunkBytes ?? 1024 * 1024;
    this.uploads = new UploadSessions({ dir: join(this.#root, 'uploads'), store: this, fsync: this.#fsync });
    this.parts = new FilesystemUploadParts(this, join(this.#root, 'upload-parts'), this.#fsync);
  }

  /** Creates the directories; call once before use. */
  async init(): Promise<this> {
    for (const algorithm of BLOB_ALGORITHMS)
      await mkdir(join(this.#root, 'blobs', algorithm), { recursive: true });
    await mkdir(join(this.#root, 'tmp'), { recursive: true });
    await this.uploads.init();
    return this;
  }

  pathOf(digest: string): string {
    const algorithm = algorithmOf(digest);
    const hex = digest.slice(algorithm.length + 1);
    return join(this.#root, 'blobs', algorithm, hex.slice(0, 2), hex);
  }

  async put(source: Readable | AsyncIterable<Uint8Array>, expected?: ExpectedBlob): Promise<BlobInfo> {
    // Hashed with the announced digest's algorithm (sha256 when none is announced).
    const counter = new DigestCounter(
      expected?.digest !== undefined ? algorithmOf(expected.digest) : 'sha256',
    );
    const temp = join(this.#root, 'tmp', randomUUID());
    try {
      await writeToFile(source, temp, { flags: 'w', counter, sync: this.#fsync });
      const info = { digest: counter.digest(), size: counter.size };
      verifyExpected(expected, info);
      await this.#moveIntoPlace(temp, info.digest);
      return info;
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  async publishFile(path: string, info: BlobInfo): Promise<void> {
    await this.#moveIntoPlace(path, info.digest);
  }

  async #moveIntoPlace(path: string, digest: string): Promise<void> {
    const target = this.pathOf(digest);
    await mkdir(dirname(target), { recursive: true });
    // Content-addressed: if the blob is already there, the new copy is identical.
    await rename(path, target);
  }

  async get(digest: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(digest);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(digest);
      throw error;
    }
    return handle.createReadStream({
      highWaterMark: this.#chunk,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async copyTo(digest: string, range: ByteRange | undefined, out: Writable): Promise<void> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.pathOf(digest), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(digest);
      throw error;
    }
    try {
      const end = range ? range.end + 1 : (await handle.stat()).size;
      let position = range?.start ?? 0;
      // Two buffers in turn: one is read into while the other is being written. A buffer is
      // reused only after the write that carried it completed.
      const size = Math.max(1, Math.min(this.#chunk, end - position));
      const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
      const writes: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
      for (let turn = 0; position < end; turn = 1 - turn) {
        await writes[turn];
        const buffer = buffers[turn]!;
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
        if (bytesRead === 0) throw new Error(`blob ${digest} ended early at byte ${position}`);
        position += bytesRead;
        writes[turn] = new Promise((resolve, reject) => {
          out.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve()));
        });
      }
      await Promise.all(writes);
    } finally {
      await handle.close();
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.pathOf(digest));
      return { digest, size: s.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async exists(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  /** Blobs in digest order (sha256 ones, then sha512 ones), one fan-out directory at a time. */
  async *list(pageSize = 1000): AsyncIterable<StoredBlob[]> {
    let page: StoredBlob[] = [];
    for (const algorithm of BLOB_ALGORITHMS) {
      const root = join(this.#root, 'blobs', algorithm);
      const hexLength = algorithm === 'sha512' ? 128 : 64;
      const prefixes = await readdir(root).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [] as string[];
        throw error;
      });
      for (const prefix of prefixes.sort()) {
        const names = await readdir(join(root, prefix)).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
          throw error;
        });
        for (const name of names.sort()) {
          if (name.length !== hexLength || !/^[a-f0-9]+$/.test(name) || !name.startsWith(prefix)) continue;
          const s = await stat(join(root, prefix, name)).catch(() => undefined);
          if (!s?.isFile()) continue;
          page.push({ digest: `${algorithm}:${name}`, size: s.size, modified: s.mtime });
          if (page.length >= pageSize) {
            yield page;
            page = [];
          }
        }
      }
    }
    if (page.length > 0) yield page;
  }

  async delete(digests: readonly string[]): Promise<string[]> {
    const gone: string[] = [];
    for (const digest of digests) {
      try {
        await unlink(this.pathOf(digest));
        gone.push(digest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') gone.push(digest);
      }
    }
    return gone;
  }
}

/**
 * Chunks as files `<root>/upload-parts/<upload id>/<uuid>`: replicas sharing the blob directory
 * (a network filesystem) share them too. A single verified chunk is renamed into place.
 */
const PART_KEY_SHAPE = /^[a-f0-9-]{36}\/[a-f0-9-]{36}$/;

class FilesystemUploadParts implements UploadParts {
  constructor(
    readonly store: FilesystemBlobStore,
    readonly dir: string,
    readonly fsync: boolean,
  ) {}

  newKey(uploadId: string): string {
    return newPartKey(uploadId);
  }

  #path(key: string): string {
    assertPartKey(key);
    return join(this.dir, key);
  }

  async write(
    key: string,
    source: Readable | AsyncIterable<Uint8Array>,
    counter = new DigestCounter(),
  ): Promise<number> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    const before = counter.size;
    try {
      // Flushed as a whole when published; a large chunk starts being flushed as it arrives, so
      // the disk works while the network still delivers (a chunk published on its own, the
      // common one-PATCH upload, then has little left to flush at the PUT). A chunk below
      // `SYNC_EVERY_BYTES` is never flushed before it is published.
      await writeToFile(source, path, { flags: 'w', counter, sync: false, flushEarly: this.fsync });
    } catch (error) {
      await unlink(path).catch(() => {});
      throw error;
    }
    return counter.size - before;
  }

  async read(key: string): Promise<Readable> {
    return createReadStream(this.#path(key), { highWaterMark: 1024 * 1024 });
  }

  async remove(keys: readonly string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.#path(key);
      folders.add(dirname(path));
      await unlink(path).catch(() => {});
    }
    // An upload's folder goes once empty; a folder still holding a racing chunk stays.
    for (const folder of folders) await rmdir(folder).catch(() => {});
  }

  async listOlder(before: Date): Promise<string[]> {
    const keys: string[] = [];
    const uploads = await readdir(this.dir).catch(() => [] as string[]);
    for (const upload of uploads) {
      const files = await readdir(join(this.dir, upload)).catch(() => [] as string[]);
      for (const file of files) {
        const key = `${upload}/${file}`;
        if (!PART_KEY_SHAPE.test(key)) continue;
        const info = await stat(join(this.dir, key)).catch(() => undefined);
        if (info && info.mtime < before) keys.push(key);
      }
    }
    return keys;
  }

  async publish(
    keys: readonly string[],
    expected: { digest: string; size?: number | undefined },
    verified: boolean,
    tail?: Readable | AsyncIterable<Uint8Array>,
  ): Promise<BlobInfo> {
    const [only] = keys;
    const size = expected.size;
    if (verified && !tail && keys.length === 1 && only !== undefined && size !== undefined) {
      // Already hashed as it arrived: flushed and renamed, as before chunks were kept apart.
      const path = this.#path(only);
      if (this.fsync) {
        const handle = await open(path, 'r+');
        try {
          await handle.datasync();
        } finally {
          await handle.close();
        }
      }
      await this.store.publishFile(path, { digest: expected.digest, size });
      return { digest: expected.digest, size };
    }
    return publishByCopy(this.store, this, keys, expected, tail);
  }
}

/** A filesystem blob store with its directories created. */
export async function createFilesystemBlobStore(
  options: FilesystemBlobStoreOptions,
): Promise<FilesystemBlobStore> {
  return new FilesystemBlobStore(options).init();
}
