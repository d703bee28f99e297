import type { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import { algorithmOf, type BlobInfo, DigestMismatchError } from './blob-store.js';
import { DigestCounter } from './hashing.js';
import type { UploadParts } from './upload-parts.js';
import { UploadOffsetError } from './upload-sessions.js';

type Source = Readable | AsyncIterable<Uint8Array>;

/** One recorded chunk of an upload: its object and where it starts in the blob. */
export interface UploadPart {
  key: string;
  start: number;
  size: number;
}

/** What the database knows about an unfinished upload. */
export interface UploadState {
  size: number;
  parts: UploadPart[];
}

/**
 * Where upload state lives (a database table, see Pier One's store). `addPart` must be atomic:
 * it records `part` only if the upload still ends at `part.start`, so of two writers racing at
 * one offset exactly one succeeds.
 */
export interface UploadLedger {
  state(id: string): Promise<UploadState | undefined>;
  /** The new size, or what stopped it: the upload is gone, or ends elsewhere (its size then). */
  addPart(
    id: string,
    part: UploadPart,
  ): Promise<{ ok: true; size: number } | { ok: false; size: number | undefined }>;
  /** Marks the upload as written to now, so that a purge of abandoned uploads leaves it alone. */
  touch(id: string): Promise<void>;
}

export interface ChunkedUploadsOptions {
  /**
   * While a chunk streams in or an upload is published, its record is touched this often, so
   * that a purge of uploads untouched for longer (see `UploadLedger.touch`) never takes an
   * upload a request is still working on. Off when undefined.
   */
  keepAliveMs?: number | undefined;
}

/** Uploads whose running hash this replica holds, kept to this many. */
const HASHES_KEPT = 10_000;

/**
 * Chunked uploads that any replica can continue: each chunk is an object of its own in the
 * blob store (`UploadParts`), the list of chunks and the size so far are a database row
 * (`UploadLedger`), and the offset check is the row's conditional update. The digest is
 * checked at commit by hashing while the chunks are copied into the blob, unless this replica
 * received every byte and holds the running hash at exactly that size: then a single chunk is
 * published without reading it again (a rename, or a copy inside S3) and a wrong digest is
 * refused without reading anything.
 */
export class ChunkedUploads {
  readonly #parts: UploadParts;
  readonly #ledger: UploadLedger;
  readonly #hashes = new Map<string, DigestCounter>();
  readonly #keepAliveMs: number | undefined;

  constructor(parts: UploadParts, ledger: UploadLedger, options: ChunkedUploadsOptions = {}) {
    this.#parts = parts;
    this.#ledger = ledger;
    this.#keepAliveMs = options.keepAliveMs;
  }

  /** Bytes received so far; `BLOB_UPLOAD_UNKNOWN` when there is no such upload. */
  async size(id: string): Promise<number> {
    return (await this.#state(id)).size;
  }

  async #state(id: string): Promise<UploadState> {
    const state = await this.#ledger.state(id);
    if (!state) throw unknown(id);
    return state;
  }

  /** Remembers a new upload's (empty) running hash. */
  started(id: string): void {
    this.#remember(id, new DigestCounter());
  }

  /**
   * Appends `source` as one chunk; `offset`, when given, must be where the upload ends
   * (else `UploadOffsetError`, also when another request appended first). Returns the new size.
   * A chunk that fails half-way is dropped whole: the upload stays where it was.
   */
  async append(id: string, source: Source, offset?: number): Promise<number> {
    const state = await this.#state(id);
    const start = offset ?? state.size;
    if (start !== state.size) throw new UploadOffsetError(state.size, start);
    const { key, size, counter } = await this.#keptAlive(id, () => this.#write(id, source, start));
    if (size === 0) {
      await this.#parts.remove([key]);
      return start;
    }
    const added = await this.#ledger.addPart(id, { key, start, size });
    if (!added.ok) {
      await this.#parts.remove([key]).catch(() => {});
      if (added.size === undefined) throw unknown(id);
      throw new UploadOffsetError(added.size, start);
    }
    if (counter && counter.size === added.size) this.#remember(id, counter);
    return added.size;
  }

  /** Writes a chunk, hashing it on when this replica holds the hash up to `start`. */
  async #write(id: string, source: Source, start: number) {
    const held = this.#hashes.get(id);
    // A copy: a racing request at the same offset must not feed the same hash.
    const counter = held && held.size === start ? held.copy() : undefined;
    const key = this.#parts.newKey(id);
    const size = await this.#parts.write(key, source, counter);
    return { key, size, counter };
  }

  /**
   * Checks the digest and publishes the blob: the recorded chunks, then `last` if given (streamed
   * after them straight into the blob, never recorded: it is published or dropped). Rejects with
   * `DigestMismatchError` when the content does not match (nothing published; the caller ends
   * the upload), or with the store's error, leaving the upload as it was before the call so that
   * the same request may simply be repeated. The chunks stay until `discard`.
   */
  async commit(
    id: string,
    digest: string,
    last?: { source: Source; offset?: number | undefined },
    /** The upload's state when the caller just read it (saves reading it again). */
    known?: UploadState,
  ): Promise<BlobInfo> {
    const algorithm = algorithmOf(digest);
    const state = known ?? (await this.#state(id));
    const keys = state.parts.map((p) => p.key);
    const held = this.#hashes.get(id);
    // A Hash cannot digest twice: after a failure the next attempt hashes the chunks again.
    this.#hashes.delete(id);
    let publish: () => Promise<BlobInfo>;
    if (last) {
      const start = last.offset ?? state.size;
      if (start !== state.size) throw new UploadOffsetError(state.size, start);
      publish = () => this.#parts.publish(keys, { digest }, false, last.source);
    } else if (held && held.size === state.size && held.algorithm === algorithm) {
      // Every byte came through this replica: the digest is known without reading anything.
      const actual = held.digest();
      if (actual !== digest) throw new DigestMismatchError(digest, actual);
      publish = () => this.#parts.publish(keys, { digest, size: state.size }, true);
    } else {
      // The running hash is sha256: a sha512 commit (rare) is hashed while the chunks are copied.
      publish = () => this.#parts.publish(keys, { digest, size: state.size }, false);
    }
    // Publishing reads the chunks (a copy, a last chunk streaming in, a copy inside S3): the purge
    // must not discard them meanwhile.
    return this.#keptAlive(id, publish);
  }

  /** Removes the chunks of an upload the caller has ended (published, cancelled or purged). */
  async discard(id: string, parts: readonly UploadPart[]): Promise<void> {
    this.#hashes.delete(id);
    await this.#parts.remove(parts.map((p) => p.key));
  }

  /**
   * Removes chunks written before `before` whose upload `hasRecord` denies: the record went
   * without them (a crash between the two deletions). Returns the keys removed.
   */
  async sweepOrphans(before: Date, hasRecord: (ids: string[]) => Promise<Set<string>>): Promise<string[]> {
    const old = await this.#parts.listOlder(before);
    if (old.length === 0) return [];
    const ids = [...new Set(old.map((key) => key.slice(0, key.indexOf('/'))))];
    const live = await hasRecord(ids);
    const orphans = old.filter((key) => !live.has(key.slice(0, key.indexOf('/'))));
    await this.#parts.remove(orphans);
    return orphans;
  }

  /**
   * Runs `work` on upload `id` with its record touched every `keepAliveMs`: the record's last
   * write otherwise dates from before the request, and a chunk that streams for longer than the
   * purge's age (a slow client, a loaded machine, a short age) would lose its upload under it.
   */
  async #keptAlive<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.#keepAliveMs === undefined) return work();
    // A failed touch is not the request's failure: at worst the purge takes the upload, as before.
    const timer = setInterval(() => void this.#ledger.touch(id).catch(() => {}), this.#keepAliveMs);
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  #remember(id: string, counter: DigestCounter): void {
    this.#hashes.delete(id);
    if (this.#hashes.size >= HASHES_KEPT) {
      const oldest = this.#hashes.keys().next().value;
      if (oldest !== undefined) this.#hashes.delete(oldest);
    }
    this.#hashes.set(id, counter);
  }
}

function unknown(id: string): NotFoundError {
  return new NotFoundError(`upload ${id} is unknown`, { code: 'BLOB_UPLOAD_UNKNOWN' });
}
