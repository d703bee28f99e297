import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** Counts and hashes what flows through, without copying it. */
export class DigestCounter {
  readonly #hash: Hash;
  size = 0;

  constructor(hash?: Hash, size = 0) {
    this.#hash = hash ?? createHash('sha256');
    this.size = size;
  }

  /** An independent counter at the same state (this one stays usable). */
  copy(): DigestCounter {
    return new DigestCounter(this.#hash.copy(), this.size);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.size += chunk.byteLength;
  }

  digest(): string {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}

/** Digest and size of everything `source` yields. */
export async function digestOf(source: Readable | AsyncIterable<Uint8Array>): Promise<{
  digest: string;
  size: number;
}> {
  const counter = new DigestCounter();
  for await (const chunk of source) counter.update(chunk as Uint8Array);
  return { digest: counter.digest(), size: counter.size };
}
