import type { Readable, Writable } from 'node:stream';
import { InputError } from '../errors.js';
import type { UploadParts } from './upload-parts.js';
import type { UploadSessions } from './upload-sessions.js';

/** What is known about a stored blob. */
export interface BlobInfo {
  /** `sha256:<64 hex>` or `sha512:<128 hex>`: the algorithms the OCI image spec registers. */
  digest: string;
  size: number;
}

/** Inclusive byte range, as HTTP `Range: bytes=start-end` names it. */
export interface ByteRange {
  start: number;
  end: number;
}

/** What the writer claims about content it is about to store; checked before anything is published. */
export interface ExpectedBlob {
  digest?: string | undefined;
  size?: number | undefined;
}

/**
 * Content-addressed blob storage. Writers stream: content is hashed while it is written to a
 * temporary place and published under its digest only once the digest is known to match, so a
 * reader never sees half-written or wrong content. Blobs are never modified once published.
 */
export interface BlobStore {
  readonly kind: 'filesystem' | 's3';
  /** Resumable uploads that are written in pieces and published once complete. */
  readonly uploads: UploadSessions;
  /** The chunks of uploads whose state is kept elsewhere (a database), readable by every replica. */
  readonly parts: UploadParts;
  /**
   * Streams `source` into the store. Rejects with `DigestMismatchError` (or `SizeMismatchError`)
   * when `expected` does not hold; nothing is published then.
   */
  put(source: Readable | AsyncIterable<Uint8Array>, expected?: ExpectedBlob): Promise<BlobInfo>;
  /**
   * Publishes a local file whose digest and size the caller has already verified (an upload
   * session). The file is consumed (moved or deleted) once published; when publishing fails it
   * is left in place, so that the caller may try again.
   */
  publishFile(path: string, info: BlobInfo): Promise<void>;
  /** The blob's content, or the inclusive `range` of it. Rejects with `BlobNotFoundError`. */
  get(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * Optional fast path for downloads: writes the content (or `range`) into `out`, reusing a few
   * buffers instead of allocating one per chunk, and resolves once all of it was handed over.
   * Rejects with `BlobNotFoundError` before writing anything when the blob is missing.
   */
  copyTo?(digest: string, range: ByteRange | undefined, out: Writable): Promise<void>;
  stat(digest: string): Promise<BlobInfo | undefined>;
  exists(digest: string): Promise<boolean>;
  /**
   * Every published blob, in pages of at most `pageSize`, with when it was last written (a blob
   * published again is written again). For garbage collection; uploads in progress are not listed.
   */
  list?(pageSize?: number): AsyncIterable<StoredBlob[]>;
  /** Deletes published blobs; returns those that are gone now (absent ones count as gone). */
  delete?(digests: readonly string[]): Promise<string[]>;
}

/** A published blob as `BlobStore.list` sees it. */
export interface StoredBlob extends BlobInfo {
  modified: Date;
}

/** Digest algorithms stores accept: the two the OCI image spec registers. */
export type BlobDigestAlgorithm = 'sha256' | 'sha512';
/** In the order `list` walks them. The same bytes under each algorithm are two blobs. */
export const BLOB_ALGORITHMS: readonly BlobDigestAlgorithm[] = ['sha256', 'sha512'];

const SUPPORTED_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`. */
export function isSupportedDigest(value: string): boolean {
  return SUPPORTED_DIGEST.test(value);
}

/** Throws an `InputError` with code `DIGEST_INVALID` unless `digest` is a supported digest. */
export function assertDigest(digest: string): void {
  if (!SUPPORTED_DIGEST.test(digest)) {
    throw new InputError(
      `"${digest}" is not a supported digest: expected sha256:<64 lowercase hex digits> or sha512:<128>`,
      { code: 'DIGEST_INVALID' },
    );
  }
}

/** The algorithm of a supported digest (checked: throws like `assertDigest`). */
export function algorithmOf(digest: string): BlobDigestAlgorithm {
  assertDigest(digest);
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** The content did not hash to the digest the writer announced. */
export class DigestMismatchError extends InputError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`the content's digest is ${actual}, not ${expected} as announced`, { code: 'DIGEST_INVALID' });
    this.expected = expected;
    this.actual = actual;
  }
}

/** The content's length was not what the writer announced. */
export class SizeMismatchError extends InputError {
  constructor(expected: number, actual: number) {
    super(`the content is ${actual} bytes long, not ${expected} as announced`, { code: 'SIZE_INVALID' });
  }
}

/** Asked for a blob the store does not hold. */
export class BlobNotFoundError extends Error {
  readonly code = 'BLOB_UNKNOWN';
  constructor(readonly digest: string) {
    super(`blob ${digest} is not in the store`);
    this.name = 'BlobNotFoundError';
  }
}

/** Throws the right mismatch error when `actual` is not what `expected` announced. */
export function verifyExpected(expected: ExpectedBlob | undefined, actual: BlobInfo): void {
  if (expected?.size !== undefined && expected.size !== actual.size) {
    throw new SizeMismatchError(expected.size, actual.size);
  }
  if (expected?.digest !== undefined && expected.digest !== actual.digest) {
    throw new DigestMismatchError(expected.digest, actual.digest);
  }
}
