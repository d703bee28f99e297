import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import type { BlobInfo, BlobStore } from './blob-store.js';
import type { DigestCounter } from './hashing.js';

/**
 * The chunks of unfinished (chunked) uploads, each kept as its own object next to the blobs
 * (`uploads/<upload id>/<uuid>` in S3, a file under `upload-parts/` on a filesystem), so that
 * any replica that can read the blobs can read them too. Objects are immutable: a chunk is
 * written once under a fresh key and then either recorded in the upload's database row or
 * removed again. The blob store never decides which chunks belong to an upload: the database does.
 */
export interface UploadParts {
  /** A fresh key for a chunk of upload `uploadId`. */
  newKey(uploadId: string): string;
  /**
   * Stores `source` under `key` and returns its length. `counter`, when given, hashes the bytes
   * as they go. If the source fails, nothing is kept under `key`.
   */
  write(key: string, source: Readable | AsyncIterable<Uint8Array>, counter?: DigestCounter): Promise<number>;
  read(key: string): Promise<Readable>;
  /** Removes the chunks; missing ones are fine. */
  remove(keys: readonly string[]): Promise<void>;
  /**
   * Keys of the chunks last written before `before`, for the purge of chunks whose upload record
   * is gone (a crash between the record's deletion and its chunks', or a version that lost them).
   */
  listOlder(before: Date): Promise<string[]>;
  /**
   * Publishes the chunks, in order, as the blob `expected`. Unless `verified` (the caller hashed
   * these very bytes already), the content is hashed while it is copied and nothing is published
   * when it does not match (`DigestMismatchError`). `tail`, when given, is streamed after the
   * chunks without being stored as one (a last chunk; `verified` must be false then).
   * The chunks stay: the caller removes them.
   */
  publish(
    keys: readonly string[],
    expected: { digest: string; size?: number | undefined },
    verified: boolean,
    tail?: Readable | AsyncIterable<Uint8Array>,
  ): Promise<BlobInfo>;
}

const UPLOAD_ID = /^[a-f0-9-]{36}$/;
const PART_KEY = /^[a-f0-9-]{36}\/[a-f0-9-]{36}$/;

export function newPartKey(uploadId: string): string {
  if (!UPLOAD_ID.test(uploadId))
    throw new NotFoundError(`upload ${uploadId} is unknown`, { code: 'BLOB_UPLOAD_UNKNOWN' });
  return `${uploadId}/${randomUUID()}`;
}

/** Throws unless `key` is one `newPartKey` makes (keys end up in paths and object names). */
export function assertPartKey(key: string): void {
  if (!PART_KEY.test(key)) throw new TypeError(`"${key}" is not an upload part key`);
}

/** The chunks one after the other, each opened only when the one before ended. */
export async function* concatParts(
  parts: Pick<UploadParts, 'read'>,
  keys: readonly string[],
  tail?: Readable | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  for (const key of keys) {
    for await (const chunk of await parts.read(key)) yield chunk as Uint8Array;
  }
  if (tail) for await (const chunk of tail) yield chunk as Uint8Array;
}

/** The general way to publish: stream the chunks into `store.put`, which hashes and verifies. */
export function publishByCopy(
  store: Pick<BlobStore, 'put'>,
  parts: Pick<UploadParts, 'read'>,
  keys: readonly string[],
  expected: { digest: string; size?: number | undefined },
  tail?: Readable | AsyncIterable<Uint8Array>,
): Promise<BlobInfo> {
  // No chunk stored: the plain streaming write (the monolithic upload's path).
  if (keys.length === 0 && tail) return store.put(tail, expected);
  return store.put(concatParts(parts, keys, tail), expected);
}
