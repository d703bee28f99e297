/** Syntax of names, tags and digests, as the OCI distribution spec defines them. */

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** A repository is always `<team>/<artifact>` in Pier One. */
export interface RepositoryName {
  team: string;
  artifact: string;
}

export function isNameComponent(value: string): boolean {
  return value.length <= 128 && COMPONENT.test(value);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** Any well-formed digest (`algorithm:encoded`); only sha256 content can exist here. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function repositoryOf(name: RepositoryName): string {
  return `${name.team}/${name.artifact}`;
}

/** Parses `team/artifact`, or undefined when it has another shape. */
export function parseRepository(value: string): RepositoryName | undefined {
  const parts = value.split('/');
  if (parts.length !== 2) return undefined;
  const [team, artifact] = parts as [string, string];
  return isNameComponent(team) && isNameComponent(artifact) ? { team, artifact } : undefined;
}

/** The tag that may never be pushed: reading it resolves to the newest tag instead. */
export const LATEST_TAG = 'latest';

export function isSnapshotTag(tag: string): boolean {
  return tag.endsWith('-SNAPSHOT');
}
