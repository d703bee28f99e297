import type { DeletedImageTag, ImageTagRecord } from '../../pierone/contract.js';
import type { TaupageUserData } from '../user-data.js';
import type { RuleContext } from './rule.js';

/** A Docker image reference (`registry/team/artifact:tag`, `…@sha256:…`). */
export interface ImageReference {
  /** `docker.io` when the reference names no registry, as Docker reads it. */
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Parses a reference the way Docker does: the first path component is a registry when it has a
 * dot or a port, or is `localhost`. Undefined for what is no reference at all.
 */
export function parseImageReference(source: string): ImageReference | undefined {
  const text = source.trim();
  if (text === '' || /\s/.test(text)) return undefined;
  const at = text.indexOf('@');
  const digest = at >= 0 ? text.slice(at + 1) : undefined;
  const rest = at >= 0 ? text.slice(0, at) : text;
  if (digest !== undefined && !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest))
    return undefined;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first.toLowerCase() : 'docker.io';
  const path = hasRegistry ? rest.slice(slash + 1) : rest;
  const colon = path.lastIndexOf(':');
  const tag = colon > path.lastIndexOf('/') && colon >= 0 ? path.slice(colon + 1) : undefined;
  const repository = tag === undefined ? path : path.slice(0, colon);
  if (repository === '' || tag === '') return undefined;
  return { registry, repository, tag, digest };
}

/** What Pier One says about the image an instance runs. */
export type ImageLookup =
  /** Not for these rules: not the Docker runtime, or no source (MISSING_SOURCE_IN_USER_DATA's case). */
  | { kind: 'skip' }
  | { kind: 'not-found'; source: string }
  /** The tag was in Pier One and was deleted (by an admin or a retention rule). */
  | { kind: 'deleted'; source: string; deletion: DeletedImageTag }
  | { kind: 'found'; source: string; reference: ImageReference; tag: ImageTagRecord };

/**
 * Looks up the Taupage `source` in Pier One. As STUPS' DockerRegistryPlugin did, only the
 * Docker runtime is checked (another runtime names no Docker image), and an image on any
 * registry host other than our Pier One's is "not found": fullstop cannot trace what it cannot
 * read, so Docker Hub or another team's registry is IMAGE_IN_PIERONE_NOT_FOUND.
 */
export function lookUpImage(userData: TaupageUserData, ctx: RuleContext): Promise<ImageLookup> {
  // Eight rules read the same image of one user data document: Pier One is asked once.
  let byUserData = lookups.get(ctx);
  if (!byUserData) lookups.set(ctx, (byUserData = new WeakMap()));
  let lookup = byUserData.get(userData);
  if (!lookup) byUserData.set(userData, (lookup = lookUp(userData, ctx)));
  return lookup;
}

const lookups = new WeakMap<RuleContext, WeakMap<TaupageUserData, Promise<ImageLookup>>>();

async function lookUp(userData: TaupageUserData, ctx: RuleContext): Promise<ImageLookup> {
  const source = userData.source?.trim();
  if (!source || !isDockerRuntime(userData)) return { kind: 'skip' };
  const reference = parseImageReference(source);
  if (!reference || !ctx.settings.pieroneHosts.some((h) => h.toLowerCase() === reference.registry)) {
    return { kind: 'not-found', source };
  }
  const parts = reference.repository.split('/');
  if (parts.length !== 2) return { kind: 'not-found', source };
  const [team, artifact] = parts as [string, string];
  let tag: ImageTagRecord | undefined;
  if (reference.digest !== undefined) {
    const tags = await ctx.imageTags.tagsOfDigest(team, artifact, reference.digest);
    tag = tags.find((t) => t.tag === reference.tag) ?? (reference.tag === undefined ? tags[0] : undefined);
  } else {
    // No tag means `latest` to Docker, which Pier One never stores: it cannot be traced.
    tag = await ctx.imageTags.getTag(team, artifact, reference.tag ?? 'latest');
  }
  if (tag) return { kind: 'found', source, reference, tag };
  if (reference.tag !== undefined) {
    const deletion = await ctx.imageTags.deletedTag(team, artifact, reference.tag);
    if (deletion) return { kind: 'deleted', source, deletion };
  }
  return { kind: 'not-found', source };
}

/** STUPS' DockerRegistryPlugin ran only for `runtime: Docker`; Senza always writes it. */
export function isDockerRuntime(userData: TaupageUserData): boolean {
  return userData.runtime?.trim().toLowerCase() === 'docker';
}

/** The `url` of a tag's scm-source.json, trimmed; undefined when there is none or it is blank. */
export function scmUrlOf(tag: ImageTagRecord): string | undefined {
  const url = tag.scm_source?.url;
  return typeof url === 'string' && url.trim() !== '' ? url.trim() : undefined;
}
