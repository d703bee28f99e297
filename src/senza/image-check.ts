import { loadToolConfig, normaliseUrl } from '../platform/cli/cli-config.js';
import { CliError } from '../platform/cli/cli-error.js';
import type { CliIo } from '../platform/cli/run-cli.js';
import { getToken } from '../zign/get-token.js';

/** A Docker image reference split the way the original Senza (pierone.api.DockerImage) did. */
export interface DockerImage {
  /** `pierone.example.org` or `127.0.0.1:8080`; undefined for Docker Hub short names. */
  registry: string | undefined;
  /** Repository path inside the registry, e.g. `myteam/nginx`. */
  name: string;
  tag: string;
}

/**
 * Splits `registry/team/artifact:tag`. As in Docker, the first component is a registry only if it
 * looks like a host (a dot, a port or `localhost`); `stups/hello:1` is a Docker Hub image.
 */
export function parseDockerImage(source: string): DockerImage | undefined {
  if (source.includes('@')) return undefined;
  const slash = source.indexOf('/');
  const first = slash < 0 ? '' : source.slice(0, slash);
  const isRegistry = /[.:]/.test(first) || first === 'localhost';
  const rest = isRegistry ? source.slice(slash + 1) : source;
  const colon = rest.lastIndexOf(':');
  const [name, tag] =
    colon > rest.lastIndexOf('/') ? [rest.slice(0, colon), rest.slice(colon + 1)] : [rest, 'latest'];
  if (!name || !tag) return undefined;
  return { registry: isRegistry ? first : undefined, name, tag };
}

export interface ImageCheckDeps {
  io: CliIo;
  fetch?: typeof fetch;
}

/** How long one registry call may take before the registry counts as unreachable. */
const REGISTRY_TIMEOUT_MS = 10_000;
const SKIP = 'use --force to skip this check';

/**
 * Checks that the image a Taupage config runs exists, as `senza create` of STUPS did: Pier One
 * through its tag list with the `pierone` token, any other registry through `/v2/<name>/tags/list`
 * (anonymous, or with the token its Bearer challenge hands out). Images without a registry
 * (Docker Hub short names) and digest references are not checked, as in the original.
 * Every failure is one line: missing tag, unreachable registry, no token.
 */
export async function checkDockerImage(source: string, deps: ImageCheckDeps): Promise<void> {
  const image = parseDockerImage(source);
  if (!image?.registry) return;
  const fetcher = deps.fetch ?? fetch;
  const pierone = await loadToolConfig('pierone', deps.io.env);
  const configured = pierone.url ? new URL(normaliseUrl(pierone.url)) : undefined;
  const isPierOne = configured?.host === image.registry || image.registry.includes('pierone');
  // Docker talks plain HTTP to loopback registries only; every other registry is HTTPS.
  const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(image.registry);
  const base =
    configured?.host === image.registry
      ? configured.origin
      : `${loopback ? 'http' : 'https'}://${image.registry}`;

  const get = async (url: string, headers: Record<string, string> = {}): Promise<Response> => {
    try {
      return await fetcher(url, { headers, signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) });
    } catch (error) {
      const { cause } = error as { cause?: { code?: string; message?: string } };
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(
        `Cannot check whether Docker image "${source}" exists: registry ${image.registry} is unreachable (${reason}); ${SKIP}`,
      );
    }
  };
  const missing = () => new CliError(`Docker image "${source}" does not exist`);
  const refused = (status: number, where: string) =>
    new CliError(
      `Cannot check whether Docker image "${source}" exists: ${where} answered HTTP ${status}; ${SKIP}`,
    );

  if (isPierOne) {
    let token: string;
    const zign = { io: deps.io, fetch: fetcher };
    try {
      token = await getToken('pierone', ['uid'], {}, zign);
    } catch (error) {
      // `zign login` keeps only the default token: after it, the walkthrough's first `senza
      // print` would say "not logged in". The default token is the same person's, so it serves.
      const fallback = await getToken('default', ['uid'], {}, zign).catch(() => undefined);
      if (!fallback)
        throw new CliError(
          `Unauthorized: cannot check whether Docker image "${source}" exists in Pier One: ${(error as Error).message}; log in ("zign token -n pierone") or ${SKIP}`,
        );
      token = fallback;
    }
    const [team, ...artifact] = image.name.split('/');
    const response = await get(
      `${base}/v1/repositories/${encodeURIComponent(team!)}/${encodeURIComponent(artifact.join('/'))}/tags`,
      { authorization: `Bearer ${token}`, accept: 'application/json' },
    );
    if (response.status === 404) throw missing();
    if (!response.ok) throw refused(response.status, 'Pier One');
    const tags = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!(image.tag in tags)) throw missing();
    return;
  }

  let url: string | undefined = `${base}/v2/${image.name}/tags/list`;
  let authorization: string | undefined;
  const tags: string[] = [];
  while (url) {
    let response = await get(url, authorization ? { authorization } : {});
    if (response.status === 401 && !authorization) {
      authorization = await bearerFor(response, image, get);
      if (authorization) response = await get(url, { authorization });
    }
    if (response.status === 404) throw missing();
    if (!response.ok) throw refused(response.status, `registry ${image.registry}`);
    const page = (await response.json().catch(() => ({}))) as { tags?: unknown };
    if (Array.isArray(page.tags)) tags.push(...page.tags.filter((t): t is string => typeof t === 'string'));
    if (tags.includes(image.tag)) return;
    // RFC 5988 `Link: </v2/…?last=x>; rel="next"` pages through long tag lists.
    const next = /<([^>]+)>;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
    url = next ? new URL(next, url).toString() : undefined;
  }
  throw missing();
}

/** The anonymous pull token a `WWW-Authenticate: Bearer realm=…,service=…` challenge offers. */
async function bearerFor(
  response: Response,
  image: DockerImage,
  get: (url: string) => Promise<Response>,
): Promise<string | undefined> {
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (!/^Bearer\s/i.test(challenge)) return undefined;
  const params = Object.fromEntries(
    [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
  );
  if (!params.realm) return undefined;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  url.searchParams.set('scope', params.scope ?? `repository:${image.name}:pull`);
  const answer = await get(url.toString());
  if (!answer.ok) return undefined;
  const body = (await answer.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = body.token ?? body.access_token;
  return typeof token === 'string' ? `Bearer ${token}` : undefined;
}
