import { formatTimestamp } from '../../platform/db/timestamps.js';
import type { BlobStore } from '../../platform/blob-store/blob-store.js';
import { isDigest, isNameComponent } from '../reference.js';
import type { PierOneStore } from '../store.js';
import type { AttestationJwks, AttestationKeys } from './attestation-keys.js';
import { DSSE_ENVELOPE_MEDIA_TYPE } from './dsse.js';

/** Envelopes larger than this are not read (Pier One's own are a few KiB). */
const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** One DSSE attestation attached to an image, as stored: verify it with `verifyAttestation`. */
export interface StoredAttestation {
  /** The attestation manifest's digest. */
  digest: string;
  /** When it was attached (ISO) and by whom (the CI's service user for `pierone attest`). */
  created: string;
  created_by: string;
  /**
   * The envelope as parsed JSON, or the raw text when it is not JSON (verification then says
   * ENVELOPE_INVALID), or undefined when its blob could not be read.
   */
  envelope: unknown;
}

/**
 * How other components (`stups trace`) read provenance in-process: the DSSE attestations of an
 * image and the key set to verify them with. Read-only, no access control (the caller is the
 * platform itself). Anything attached with the DSSE artifact type is listed, whoever pushed it:
 * only verification says whether Pier One signed it.
 */
export interface ProvenanceDirectory {
  attestations(team: string, artifact: string, digest: string): Promise<StoredAttestation[]>;
  jwks(): Promise<AttestationJwks>;
}

export class PierOneProvenance implements ProvenanceDirectory {
  constructor(
    private readonly store: PierOneStore,
    private readonly blobs: BlobStore,
    private readonly keys: AttestationKeys,
  ) {}

  async attestations(team: string, artifact: string, digest: string): Promise<StoredAttestation[]> {
    if (!isNameComponent(team) || !isNameComponent(artifact) || !isDigest(digest)) return [];
    const referrers = await this.store.referrers(`${team}/${artifact}`, digest, {
      artifactType: DSSE_ENVELOPE_MEDIA_TYPE,
    });
    return Promise.all(
      referrers.map(async (m) => ({
        digest: m.digest,
        created: formatTimestamp(m.created),
        created_by: m.createdBy,
        envelope: await this.#envelopeOf(m.content),
      })),
    );
  }

  jwks(): Promise<AttestationJwks> {
    return this.keys.publicJwks();
  }

  async #envelopeOf(manifest: Buffer): Promise<unknown> {
    let layer: { digest?: unknown; mediaType?: unknown; size?: unknown } | undefined;
    try {
      layer = (JSON.parse(manifest.toString('utf8')) as { layers?: Array<typeof layer> }).layers?.find(
        (l) => l?.mediaType === DSSE_ENVELOPE_MEDIA_TYPE,
      );
    } catch {
      return undefined;
    }
    if (
      typeof layer?.digest !== 'string' ||
      (typeof layer.size === 'number' && layer.size > MAX_ENVELOPE_BYTES)
    ) {
      return undefined;
    }
    const info = await this.blobs.stat(layer.digest);
    if (!info || info.size > MAX_ENVELOPE_BYTES) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of await this.blobs.get(layer.digest))
      chunks.push(Buffer.from(chunk as Uint8Array));
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}
