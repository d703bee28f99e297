import { formatTimestamp } from '../platform/db/timestamps.js';
import {
  BUILDX_ATTESTATION_ANNOTATION,
  type DeletedImageTag,
  type ImageProvenance,
  type ImageTagDirectory,
  type ImageTagRecord,
  PROVENANCE_ARTIFACT_TYPES,
} from './contract.js';
import { isDigest, isNameComponent, isTag, repositoryOf } from './reference.js';
import type { PierOneStore, StoredManifest, TagRecord } from './store.js';

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** The `imageTags` contract over Pier One's store. */
export class PierOneImageTags implements ImageTagDirectory {
  constructor(private readonly store: PierOneStore) {}

  async getTag(team: string, artifact: string, tag: string): Promise<ImageTagRecord | undefined> {
    if (!isNameComponent(team) || !isNameComponent(artifact) || !isTag(tag)) return undefined;
    const record = await this.store.tag(team, artifact, tag);
    return record && this.#describe(record);
  }

  async tagsOfDigest(team: string, artifact: string, digest: string): Promise<ImageTagRecord[]> {
    if (!isNameComponent(team) || !isNameComponent(artifact) || !isDigest(digest)) return [];
    const tags = (await this.store.tags(team, artifact)).filter((t) => t.digest === digest);
    return Promise.all(tags.map((t) => this.#describe(t)));
  }

  async deletedTag(team: string, artifact: string, tag: string): Promise<DeletedImageTag | undefined> {
    if (!isNameComponent(team) || !isNameComponent(artifact) || !isTag(tag)) return undefined;
    const deleted = await this.store.deletedTag(team, artifact, tag);
    return (
      deleted && {
        team,
        artifact,
        tag,
        digest: deleted.digest,
        deleted_by: deleted.deletedBy,
        deleted_at: formatTimestamp(deleted.deletedAt),
        reason: deleted.reason,
      }
    );
  }

  async #describe(tag: TagRecord): Promise<ImageTagRecord> {
    return {
      team: tag.team,
      artifact: tag.artifact,
      tag: tag.name,
      digest: tag.digest,
      image: tag.imageId,
      created: formatTimestamp(tag.created),
      created_by: tag.createdBy,
      scm_source: tag.scmSource,
      provenance: await this.#provenance(repositoryOf(tag), tag.digest),
    };
  }

  async #provenance(repository: string, digest: string): Promise<ImageProvenance[]> {
    const found: ImageProvenance[] = (await this.store.referrers(repository, digest))
      .filter((m) => m.artifactType !== null && PROVENANCE_ARTIFACT_TYPES.includes(m.artifactType))
      .map((m) => ({
        digest: m.digest,
        artifact_type: m.artifactType ?? '',
        created: formatTimestamp(m.created),
        created_by: m.createdBy,
      }));
    const manifest = await this.store.getManifest(repository, digest);
    if (manifest && INDEX_TYPES.has(manifest.mediaType)) found.push(...buildxAttestations(manifest));
    return found;
  }
}

/** The attestation manifests buildx puts into an index beside the platform images. */
function buildxAttestations(index: StoredManifest): ImageProvenance[] {
  let entries: unknown;
  try {
    entries = (JSON.parse(index.content.toString('utf8')) as { manifests?: unknown }).manifests;
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  return entries
    .filter(
      (e): e is { digest: string; annotations: Record<string, string> } =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as { digest?: unknown }).digest === 'string' &&
        (e as { annotations?: Record<string, unknown> }).annotations?.[BUILDX_ATTESTATION_ANNOTATION] ===
          'attestation-manifest',
    )
    .map((e) => ({
      digest: e.digest,
      artifact_type: 'application/vnd.in-toto+json',
      created: formatTimestamp(index.created),
      created_by: index.createdBy,
    }));
}
