import { createHash } from 'node:crypto';

/** `sha256:<hex>` of bytes held in memory (manifests). */
export function digestOfBytes(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
