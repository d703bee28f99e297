/**
 * A link to the commit an image was built from, for the usual forges, or undefined when the
 * scm-source URL cannot be turned into a safe http(s) address.
 *
 * `git:git@github.com:org/repo.git`, `ssh://git@host/org/repo`, `https://host/org/repo.git`
 * all become `https://host/org/repo/commit/<revision>`.
 */
export function commitLink(scmUrl: string, revision: string): string | undefined {
  const base = repositoryLink(scmUrl);
  if (!base || !/^[0-9A-Za-z._-]{1,100}$/.test(revision)) return undefined;
  return `${base}/commit/${revision}`;
}

export function repositoryLink(scmUrl: string): string | undefined {
  let text = scmUrl.trim().replace(/^git:(?!\/\/)/, '');
  const scp = /^[\w.-]+@([\w.-]+):(?!\/\/)(.+)$/.exec(text);
  if (scp) text = `https://${scp[1]}/${scp[2]}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (['ssh:', 'git:', 'git+ssh:', 'git+https:'].includes(url.protocol)) {
    url = new URL(`https://${url.hostname}${url.pathname}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (!url.hostname) return undefined;
  const path = url.pathname.replace(/\.git$/, '').replace(/\/+$/, '');
  if (path === '') return undefined;
  return `${url.protocol}//${url.host}${path}`;
}

/** Only http(s) links are rendered as links; anything else stays text. */
export function safeHref(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
