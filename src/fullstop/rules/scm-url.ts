/** A git repository URL reduced to what identifies the repository. */
export interface NormalizedRepository {
  host: string;
  /** Everything but the repository's own name (`owner`, or `group/subgroup` on GitLab). */
  owner: string;
  name: string;
  /** `host/owner/name`, lower case: two URLs of one repository compare equal. */
  key: string;
}

/**
 * Normalises the forms one repository is written in: `https://host/owner/repo(.git)`,
 * `ssh://git@host:22/owner/repo.git`, `git@host:owner/repo.git` (scp-like), `git://…`,
 * `git+ssh://…`, and scm-source.json's `git:` prefix (`git:git@host:owner/repo.git`).
 * Scheme, user, port, `.git` and trailing slashes do not matter; GitHub and most hosts treat
 * names case-insensitively, so the key is lower case. Undefined when no host and path are found.
 */
export function normalizeScmUrl(raw: string): NormalizedRepository | undefined {
  let url = raw.trim();
  // `stups scm-source` writes `git:` before the remote URL.
  if (/^git:(?!\/\/)/i.test(url)) url = url.slice(4);
  let host: string;
  let path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)(\/.*)?$/i.exec(url);
  if (scheme) {
    const authority = (scheme[2] as string).replace(/^[^@]*@/, '');
    host = authority.replace(/:\d*$/, '');
    path = scheme[3] ?? '';
  } else {
    const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(url);
    if (!scp) return undefined;
    host = scp[1] as string;
    path = scp[2] as string;
  }
  const segments = path
    .replace(/[?#].*$/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .split('/')
    .filter((s) => s !== '');
  if (host === '' || segments.length < 2) return undefined;
  const name = segments.at(-1) as string;
  const owner = segments.slice(0, -1).join('/');
  host = host.toLowerCase();
  return { host, owner, name, key: `${host}/${owner}/${name}`.toLowerCase() };
}
