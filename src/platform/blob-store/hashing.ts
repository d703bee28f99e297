import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobDigestAlgorithm } from './blob-store.js';

/** Counts and hashes what flows through, without copying it. */
export class DigestCounter {
  readonly #hash: Hash;
  readonly algorithm: BlobDigestAlgorithm;
  size = 0;

  constructor(algorithm: BlobDigestAlgorithm = 'sha256', hash?: Hash, size = 0) {
    this.algorithm = algorithm;
    this.#hash = hash ?? createHash(algorithm);
    this.size = size;
  }

  /** An independent counter at the same state (this one stays usable). */
  copy(): DigestCounter {
    return new DigestCounter(this.algorithm, this.#hash.copy(), this.size);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.byteLength;
  }

  digest(): string {
    return `${this.algorithm}:${this.#hash.digest('hex')}`;
  }
}

/** Digest and size of everything `source` yields. */
export async function digestOf(
  source: Readable | AsyncIterable<Uint8Array>,
  algorithm: BlobDigestAlgorithm = 'sha256',
): Promise<{ digest: string; size: number }> {
  const counter = new DigestCounter(algorithm);
  for await (const chunk of source) counter.update(chunk as Uint8Array);
  return { digest: counter.digest(), size: counter.size };
}
