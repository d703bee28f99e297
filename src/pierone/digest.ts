import { createHash } from 'node:crypto';

/** Digest algorithms the OCI image spec registers, with their hex lengths. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

const REGISTERED = /^(sha256|sha512):([a-f0-9]+)$/;

/** The algorithm of a registered digest (`sha256:<64 hex>`, `sha512:<128 hex>`), else undefined. */
export function registeredAlgorithm(digest: string): DigestAlgorithm | undefined {
  const match = REGISTERED.exec(digest);
  if (!match) return undefined;
  const algorithm = match[1] as DigestAlgorithm;
  return match[2]?.length === ALGORITHMS[algorithm] ? algorithm : undefined;
}

/**
 * `<algorithm>:<hex>` of bytes held in memory (manifests). sha256 is the canonical form a push by
 * tag gets; a push by a sha512 digest is verified and stored under that digest.
 */
export function digestOfBytes(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
