import { z } from 'zod';

/** One tag as the STUPS API (and the `pierone` CLI) sees it. */
export const TagSchema = z.object({
  name: z.string(),
  /** `2015-04-25T16:25:00.000Z` */
  created: z.string(),
  created_by: z.string(),
  /**
   * The image id, as in STUPS and `docker images`: the digest of the image's config blob; for
   * an index (manifest list), which has no single config, the index's own digest.
   */
  image: z.string(),
  /** Whether the image carries `scm-source.json` (fullstop flags images without). */
  scm_source_present: z.boolean(),
  /** Set once the tag was marked production-ready for an incident/change id. */
  incident_id: z.string().optional(),
});
export type Tag = z.infer<typeof TagSchema>;

export const ScmSourceSchema = z.object({
  url: z.string(),
  revision: z.string(),
  author: z.string(),
  status: z.string(),
  created: z.string(),
});
export type ScmSource = z.infer<typeof ScmSourceSchema>;

export const TagSearchResultSchema = z.object({
  name: z.string(),
  team: z.string(),
  artifact: z.string(),
});

export const ProductionReadySchema = z.strictObject({
  incident_id: z.string().min(1).max(200),
});

export const NameSchema = z.string().regex(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/, 'invalid name');

/**
 * An attestation or signature attached to an image: an OCI referrer of its manifest (cosign,
 * notation, `oras attach`) or an attestation manifest of its index (`docker buildx --provenance`).
 * Pier One stores these as pushed; it does not verify their signatures.
 */
export interface ImageProvenance {
  /** The attestation's own manifest digest. */
  digest: string;
  artifact_type: string;
  /** When it was pushed (ISO); for an index's attestation, when the index was. */
  created: string;
  created_by: string;
}

/** One tag as other modules (fullstop) read it: what Pier One recorded when it was pushed. */
export interface ImageTagRecord {
  team: string;
  artifact: string;
  tag: string;
  /** The manifest the tag points to. */
  digest: string;
  /** The image id (config digest; for an index the index's digest). */
  image: string;
  /** When the tag was pushed (ISO) and by whom. */
  created: string;
  created_by: string;
  /** `scm-source.json` found in the image (or sent by a trusted pusher), null when none. */
  scm_source: Record<string, unknown> | null;
  provenance: ImageProvenance[];
}

/**
 * How other components read Pier One's images, the way `ApplicationDirectory` reads Kio:
 * read-only, no access control (the caller is the platform itself).
 */
export interface ImageTagDirectory {
  /** The tag, or undefined when Pier One has no such tag (or the names are not valid). */
  getTag(team: string, artifact: string, tag: string): Promise<ImageTagRecord | undefined>;
  /** Every tag of the artifact pointing to the manifest `digest` (an image pinned by digest). */
  tagsOfDigest(team: string, artifact: string, digest: string): Promise<ImageTagRecord[]>;
  /** Who deleted the tag, when and why; undefined when it was never deleted. */
  deletedTag(team: string, artifact: string, tag: string): Promise<DeletedImageTag | undefined>;
}

/** A deleted tag as other components see it (fullstop flags instances still running it). */
export interface DeletedImageTag {
  team: string;
  artifact: string;
  tag: string;
  digest: string;
  deleted_by: string;
  deleted_at: string;
  reason: string;
}

/**
 * Referrer artifact types that count as provenance: in-toto/SLSA attestations, sigstore
 * bundles, cosign and notation signatures.
 */
export const PROVENANCE_ARTIFACT_TYPES: readonly string[] = [
  'application/vnd.in-toto+json',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.cncf.notary.signature',
  // What `pierone attest` attaches: a DSSE envelope with an in-toto SLSA provenance statement.
  'application/vnd.dsse.envelope.v1+json',
];

/** Where Pier One publishes the keys its provenance attestations are signed with. */
export const ATTESTATION_JWKS_PATH = '/.well-known/attestation-jwks.json';

/** `POST /teams/{team}/artifacts/{artifact}/attestations`: a statement for Pier One to sign. */
export const AttestRequestSchema = z.strictObject({
  /** An in-toto Statement v1 with a SLSA provenance v1 predicate about one manifest of the artifact. */
  statement: z.record(z.string(), z.unknown()),
});

/** The DSSE envelope as it is stored and served (JSON). */
export const EnvelopeSchema = z.object({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string() })),
});

/** What Pier One answers once it signed and attached an attestation. */
export const AttestationSchema = z.object({
  /** The attestation manifest's digest (a referrer of `subject`). */
  digest: z.string(),
  /** The image manifest's digest. */
  subject: z.string(),
  repository: z.string(),
  artifact_type: z.string(),
  key_id: z.string(),
  /** The source commit the provenance names. */
  commit: z.string().optional(),
  envelope: EnvelopeSchema,
});
export type AttestationAnswer = z.infer<typeof AttestationSchema>;

export const AttestationJwksSchema = z.object({
  keys: z.array(z.looseObject({ kid: z.string(), kty: z.string() })),
});

/** How buildx marks an index entry that attests another entry of the same index. */
export const BUILDX_ATTESTATION_ANNOTATION = 'vnd.docker.reference.type';

/** A tag a platform admin deleted: its name is burnt for good. */
export const DeletedTagSchema = z.object({
  name: z.string(),
  /** The manifest digest the tag pointed to. */
  digest: z.string(),
  deleted_by: z.string(),
  /** `2015-04-25T16:25:00.000Z` */
  deleted_at: z.string(),
  reason: z.string(),
  /** "deleted by X on D because R", as the console shows it. */
  description: z.string(),
});
export type DeletedTag = z.infer<typeof DeletedTagSchema>;

/** The mandatory reason of a deletion, when given in the body (else `?reason=` or `X-Deletion-Reason`). */
export const DeletionReasonSchema = z.object({ reason: z.string().min(1).max(1000) });

/** What one deletion removed. */
export const DeletionSchema = z.object({
  /** `team/artifact:tag` or `team/artifact@digest`. */
  deleted: z.string(),
  /** The tags the deletion burnt. */
  tags: z.array(z.string()),
  deleted_by: z.string(),
  reason: z.string(),
});
