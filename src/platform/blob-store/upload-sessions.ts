import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError } from '../errors.js';
import { algorithmOf, type BlobInfo, type BlobStore, verifyExpected } from './blob-store.js';
import { writeToFile } from './file-writer.js';
import { DigestCounter, digestOf } from './hashing.js';

/** A chunk did not start where the upload currently ends (HTTP 416 in the registry). */
export class UploadOffsetError extends Error {
  readonly code = 'BLOB_UPLOAD_INVALID';
  constructor(
    readonly expectedOffset: number,
    readonly givenOffset: number,
  ) {
    super(`the chunk starts at byte ${givenOffset}, but the upload has ${expectedOffset} bytes so far`);
    this.name = 'UploadOffsetError';
  }
}

export interface UploadSessionsOptions {
  /** Local directory for the parts of unfinished uploads. */
  dir: string;
  /** Where finished uploads are published. */
  store: BlobStore;
  /** Flush data to disk before publishing (default true). */
  fsync?: boolean;
}

interface HashState {
  counter: DigestCounter;
}

const SESSION_ID = /^[a-f0-9-]{36}$/;

/**
 * Resumable uploads, written in pieces to a local file and published through the store once
 * the whole blob is there and its digest matched. The running hash lives in memory; after a
 * restart, or when a piece failed half-way, the file is hashed again at commit time. The file
 * on disk is the truth about how far an upload got.
 */
export class UploadSessions {
  readonly #dir: string;
  readonly #store: BlobStore;
  readonly #fsync: boolean;
  readonly #hashes = new Map<string, HashState>();
  readonly #busy = new Set<string>();
  #stagingId: Promise<string> | undefined;

  constructor(options: UploadSessionsOptions) {
    this.#dir = options.dir;
    this.#store = options.store;
    this.#fsync = options.fsync ?? true;
  }

  /** The staging directory (tests set its files' times). */
  get directory(): string {
    return this.#dir;
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
  }

  /**
   * The id of this staging directory, kept in it (`.staging-id`, created by whoever comes first):
   * replicas that share the directory share the id, replicas with a directory of their own each
   * have one. Upload records name it, so a purge touches only records whose data it can see.
   */
  stagingId(): Promise<string> {
    this.#stagingId ??= (async () => {
      const file = join(this.#dir, '.staging-id');
      await mkdir(this.#dir, { recursive: true });
      // Written aside and linked into place: of two replicas starting at once on a shared
      // directory, one link wins, and neither can read a half-written file.
      const candidate = `${file}.${randomUUID()}`;
      await writeFile(candidate, `${randomUUID()}\n`);
      await link(candidate, file)
        .catch((error: unknown) => {
          if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
        })
        .finally(() => unlink(candidate).catch(() => {}));
      const id = (await readFile(file, 'utf8')).trim();
      if (!SESSION_ID.test(id))
        throw new Error(`${file} does not hold a staging id: remove it to make a new one`);
      return id;
    })().catch((error: unknown) => {
      this.#stagingId = undefined;
      throw error;
    });
    return this.#stagingId;
  }

  #path(id: string): string {
    if (!SESSION_ID.test(id))
      throw new NotFoundError(`upload ${id} is unknown`, { code: 'BLOB_UPLOAD_UNKNOWN' });
    return join(this.#dir, id);
  }

  /** Starts an empty upload and returns its id. */
  async create(): Promise<string> {
    const id = randomUUID();
    await writeFile(this.#path(id), '');
    this.#hashes.set(id, { counter: new DigestCounter() });
    return id;
  }

  /** Bytes received so far, or undefined for an unknown upload. */
  async size(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.#path(id))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async #requireSize(id: string): Promise<number> {
    const size = await this.size(id);
    if (size === undefined)
      throw new NotFoundError(`upload ${id} is unknown`, { code: 'BLOB_UPLOAD_UNKNOWN' });
    return size;
  }

  async #exclusive<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(id)) {
      throw new ConflictError(`upload ${id} is already receiving data in another request`, {
        code: 'BLOB_UPLOAD_INVALID',
      });
    }
    this.#busy.add(id);
    try {
      return await work();
    } finally {
      this.#busy.delete(id);
    }
  }

  /**
   * Appends `source` to the upload. `offset`, when given, must equal the bytes received so far
   * (else `UploadOffsetError`). Returns the new size. If the source fails half-way, the bytes
   * that arrived stay (the client may resume from the size a status request reports).
   */
  append(id: string, source: Readable | AsyncIterable<Uint8Array>, offset?: number): Promise<number> {
    return this.#exclusive(id, () => this.#append(id, source, offset, false));
  }

  async #append(
    id: string,
    source: Readable | AsyncIterable<Uint8Array>,
    offset: number | undefined,
    sync: boolean,
  ): Promise<number> {
    const path = this.#path(id);
    const size = await this.#requireSize(id);
    if (offset !== undefined && offset !== size) throw new UploadOffsetError(size, offset);
    const state = this.#hashes.get(id);
    const consistent = state ? state.counter.size === size : size === 0;
    const counter = consistent && state ? state.counter : new DigestCounter();
    try {
      await writeToFile(source, path, { flags: 'a', counter, sync });
    } catch (error) {
      // What reached the disk is unknown to the hash now: hash the file again at commit.
      this.#hashes.delete(id);
      throw error;
    }
    if (consistent) {
      this.#hashes.set(id, { counter });
      return counter.size;
    }
    this.#hashes.delete(id);
    return this.#requireSize(id);
  }

  /**
   * Appends an optional last piece, checks the digest and publishes the blob. A wrong digest
   * deletes the upload; nothing becomes visible. When publishing fails the upload stays as it
   * was before the call, so the same commit may simply be repeated.
   */
  commit(
    id: string,
    digest: string,
    last?: { source: Readable | AsyncIterable<Uint8Array>; offset?: number | undefined },
  ): Promise<BlobInfo> {
    const algorithm = algorithmOf(digest);
    return this.#exclusive(id, async () => {
      const path = this.#path(id);
      const before = await this.#requireSize(id);
      // The last piece is flushed to disk with its own write; otherwise flush separately below.
      if (last) await this.#append(id, last.source, last.offset, this.#fsync);
      const size = await this.#requireSize(id);
      const state = this.#hashes.get(id);
      const info =
        // The running hash is sha256; a sha512 commit (rare) reads the upload once more.
        state && state.counter.size === size && state.counter.algorithm === algorithm
          ? { digest: state.counter.digest(), size }
          : await digestOf(createReadStream(path, { highWaterMark: 1024 * 1024 }), algorithm);
      this.#hashes.delete(id);
      try {
        verifyExpected({ digest }, info);
      } catch (error) {
        // A wrong digest ends the upload: no retry can make these bytes hash differently.
        await unlink(path).catch(() => {});
        throw error;
      }
      if (this.#fsync && !last) {
        const handle = await open(path, 'r+');
        try {
          await handle.datasync();
        } finally {
          await handle.close();
        }
      }
      // A failure to publish (the store unreachable, a full disk) keeps the upload as it was
      // before this request, last piece taken off again: the client may repeat the very same
      // request, or resume. The store consumes the file only once it published it.
      try {
        await this.#store.publishFile(path, info);
      } catch (error) {
        if (last) await truncate(path, before).catch(() => {});
        throw error;
      }
      return info;
    });
  }

  /** Forgets an upload and its data. */
  async cancel(id: string): Promise<void> {
    await this.#requireSize(id);
    this.#hashes.delete(id);
    await unlink(this.#path(id)).catch(() => {});
  }

  /** Deletes uploads that have not changed for `olderThanMs`; returns how many. */
  async purgeStale(olderThanMs: number, now = Date.now()): Promise<number> {
    let purged = 0;
    for (const name of await readdir(this.#dir)) {
      if (!SESSION_ID.test(name) || this.#busy.has(name)) continue;
      const path = join(this.#dir, name);
      const s = await stat(path).catch(() => undefined);
      if (s && now - s.mtimeMs > olderThanMs) {
        await unlink(path).catch(() => {});
        this.#hashes.delete(name);
        purged++;
      }
    }
    return purged;
  }
}
