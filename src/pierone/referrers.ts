import { MEDIA_TYPES } from './manifest.js';
import type { StoredManifest } from './store.js';

/** Referrers one answer lists when the client names no `n`; more are reached through `Link`. */
export const REFERRERS_PAGE_SIZE = 1000;

/**
 * The referrers tag schema (OCI distribution spec, for registries without the referrers API):
 * tag `<alg>-<hex>` of a subject digest holds an index of its referrers. Pier One has the API,
 * but clients that only know the tag read (and write) that tag, so it is answered from the same
 * data: reading it gives the registry's own complete index, never a client's partial copy.
 */
const REFERRERS_TAG = /^(sha256|sha512)-([a-f0-9]{64})$/;

/**
 * The subject a referrers tag names. The schema truncates the digest's hex to 64 characters (a
 * tag holds at most 128): a sha256 tag names its subject whole, a sha512 tag only the first half
 * of it, so its subject is found by that prefix (`truncated`).
 */
export interface ReferrersTagSubject {
  /** `sha256:<hex>`, or `sha512:<first 64 hex>` when truncated. */
  digest: string;
  truncated: boolean;
}

/** The subject a referrers tag names, or undefined for any other tag. */
export function subjectOfReferrersTag(tag: string): ReferrersTagSubject | undefined {
  const match = REFERRERS_TAG.exec(tag);
  if (!match) return undefined;
  const [, algorithm, hex] = match;
  return { digest: `${algorithm}:${hex}`, truncated: algorithm !== 'sha256' };
}

/** The OCI image index the referrers API (and the referrers tag) answers with. */
export function referrersIndex(referrers: readonly StoredManifest[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: referrers.map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.content.length,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      })),
    }),
  );
}
