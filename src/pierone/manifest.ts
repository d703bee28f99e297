import { z } from 'zod';
import { OciError } from './oci-errors.js';
import { isDigest } from './reference.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const IMAGE_TYPES = new Set<string>([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociIndex]);

const DescriptorSchema = z.looseObject({
  mediaType: z.string().min(1),
  digest: z.string().refine(isDigest, 'must be a digest (algorithm:encoded)'),
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

const ImageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
  subject: DescriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const IndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
  subject: DescriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** What the registry needs to know about a pushed manifest. */
export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** Blobs that must exist in the repository (config and layers; foreign layers excluded). */
  blobs: string[];
  /** Manifests an index refers to; they must exist in the repository. */
  manifests: string[];
  /** Filesystem layers, bottom first. */
  layers: Descriptor[];
  /**
   * The config blob's digest: the image id `docker images` shows. None for an index, which
   * has no single config (one per platform).
   */
  config: string | undefined;
  subject: string | undefined;
  /** As the referrers API reports it: the manifest's, else (for images) the config's media type. */
  artifactType: string | undefined;
  annotations: Record<string, string> | undefined;
}

/** An index's media types: the manifests whose stored content lists children. */
export const INDEX_MEDIA_TYPES = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];

/** The manifests a stored index lists; none for what no longer parses (it was valid once). */
export function childrenOf(content: Uint8Array, mediaType: string): string[] {
  try {
    return parseManifest(Buffer.from(content), mediaType).manifests;
  } catch {
    return [];
  }
}

function invalid(message: string, detail?: unknown): OciError {
  return new OciError(400, 'MANIFEST_INVALID', message, detail);
}

/**
 * Validates a manifest pushed with `contentType` (parameters ignored). The type comes from the
 * header, else from the `mediaType` field, else from the shape (OCI allows omitting both).
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('the manifest is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid('the manifest must be a JSON object');
  }
  const record = json as Record<string, unknown>;
  const declared = typeof record.mediaType === 'string' ? record.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const headerType = header && (IMAGE_TYPES.has(header) || INDEX_TYPES.has(header)) ? header : undefined;
  if (header?.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new OciError(
      400,
      'MANIFEST_INVALID',
      'Docker image manifest schema 1 is not supported; push schema 2',
    );
  }
  if (declared && headerType && declared !== headerType) {
    throw invalid(`the manifest's mediaType ${declared} does not match the Content-Type ${headerType}`);
  }
  const mediaType =
    headerType ?? declared ?? ('manifests' in record ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  if (!IMAGE_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    throw invalid(`manifests of type ${mediaType} are not supported`);
  }

  if (IMAGE_TYPES.has(mediaType)) {
    const parsed = ImageManifestSchema.safeParse(json);
    if (!parsed.success) throw invalid('the image manifest is malformed', z.treeifyError(parsed.error));
    const m = parsed.data;
    const local = m.layers.filter((l) => !l.urls?.length);
    return {
      mediaType,
      kind: 'image',
      blobs: [...new Set([m.config.digest, ...local.map((l) => l.digest)])],
      manifests: [],
      layers: m.layers,
      config: m.config.digest,
      subject: m.subject?.digest,
      artifactType: m.artifactType || m.config.mediaType,
      annotations: m.annotations,
    };
  }
  const parsed = IndexSchema.safeParse(json);
  if (!parsed.success) throw invalid('the image index is malformed', z.treeifyError(parsed.error));
  const index = parsed.data;
  return {
    mediaType,
    kind: 'index',
    blobs: [],
    manifests: [...new Set(index.manifests.map((d) => d.digest))],
    layers: [],
    config: undefined,
    subject: index.subject?.digest,
    artifactType: index.artifactType || undefined,
    annotations: index.annotations,
  };
}
