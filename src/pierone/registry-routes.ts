import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenFromAuthorization } from '../platform/auth/bearer.js';
import type { Principal } from '../platform/auth/principal.js';
import { type BlobStore, type ByteRange, isSupportedDigest } from '../platform/blob-store/blob-store.js';
import { NotAuthenticatedError } from '../platform/errors.js';
import { UnsafeInputError } from '../platform/http/input-guard.js';
import type { ServiceContext } from '../platform/service-context.js';
import { ANONYMOUS, type Actor, type PierOneAudit, recordRefusal } from './access.js';
import { allowsAnonymousPull, type PierOneConfig } from './config.js';
import { MEDIA_TYPES } from './manifest.js';
import type { Manifests } from './manifests.js';
import { REFERRERS_PAGE_SIZE, referrersIndex } from './referrers.js';
import { OciError, pathParamError, toOciError } from './oci-errors.js';
import { registeredAlgorithm } from './digest.js';
import { isDigest, isNameComponent, isTag, type RepositoryName, repositoryOf } from './reference.js';
import type { PierOneStore, StoredManifest } from './store.js';
import type { BlobUploads } from './uploads.js';

export interface RegistryDeps {
  ctx: ServiceContext;
  store: PierOneStore;
  blobs: BlobStore;
  audit: PierOneAudit;
  manifests: Manifests;
  uploads: BlobUploads;
  config: PierOneConfig;
}

type Action = 'pull' | 'push';

interface RepoParams {
  team: string;
  artifact: string;
}

/** Downloads from this size on take the store's buffer-reusing path. */
const FAST_PATH_BYTES = 8 * 1024 * 1024;

const UNSUPPORTED_DELETE =
  'Pier One does not delete content for teams: tags are immutable and images stay available so that ' +
  'every deployment can be traced back to its source (platform admins with pierone.admin.delete may, ' +
  'giving a reason)';

/**
 * The OCI distribution API under `/v2/`, as an encapsulated plugin: its own error shape, its own
 * body handling (request streams go straight to the blob store, never through a body parser).
 * HTTP only: requests are parsed here, `Manifests` and `BlobUploads` decide and write, and
 * `toOciError` maps what they throw.
 */
export function registryPlugin(deps: RegistryDeps) {
  const { ctx, store, blobs, audit, manifests, uploads, config } = deps;

  const realm = () => config.tokenRealm ?? `${ctx.urls.pierone}/v2/token`;
  const challenge = (repo?: RepositoryName, action?: Action) => {
    const scope = repo
      ? `,scope="repository:${repositoryOf(repo)}:${action === 'push' ? 'pull,push' : 'pull'}"`
      : '';
    return `Bearer realm="${realm()}",service="${config.service}"${scope}`;
  };

  async function authenticate(request: FastifyRequest): Promise<Principal | undefined> {
    const token = tokenFromAuthorization(request.headers.authorization);
    return token === undefined ? undefined : ctx.verifier.verify(token);
  }

  /** A 401 with the challenge Docker clients need; refused pushes are audited first. */
  async function unauthorized(
    request: FastifyRequest,
    repo: RepositoryName | undefined,
    action: Action,
    message: string,
  ): Promise<never> {
    const error = new OciError(401, 'UNAUTHORIZED', message, undefined, {
      'www-authenticate': challenge(repo, action),
    });
    if (action === 'push' && repo) {
      const attempted = { event: 'pierone.repository.push', targetId: repositoryOf(repo) } as const;
      throw await recordRefusal(audit, ANONYMOUS, request.id, attempted, error);
    }
    throw error;
  }

  /** The caller of a pull; undefined only for allowed anonymous pulls. */
  async function puller(
    request: FastifyRequest,
    repo: RepositoryName | undefined,
  ): Promise<Principal | undefined> {
    return identify(request, repo, 'pull');
  }

  /** The caller of a push, authenticated; push rights are the domain's to check. */
  async function pusher(request: FastifyRequest, repo: RepositoryName): Promise<Actor> {
    const principal = await identify(request, repo, 'push');
    if (!principal) throw new Error('a push is never anonymous');
    return { principal, requestId: request.id };
  }

  async function identify(
    request: FastifyRequest,
    repo: RepositoryName | undefined,
    action: Action,
  ): Promise<Principal | undefined> {
    let principal: Principal | undefined;
    try {
      principal = await authenticate(request);
    } catch (error) {
      if (error instanceof NotAuthenticatedError) return unauthorized(request, repo, action, error.message);
      throw error;
    }
    if (principal) {
      // For the kernel's refusal hook, should a refusal reach it unrecorded.
      request.principal = principal;
      return principal;
    }
    if (action === 'pull' && allowsAnonymousPull(config, repo?.team)) return undefined;
    return unauthorized(
      request,
      repo,
      action,
      'authentication required: use a Bearer token or Basic oauth2:<token>',
    );
  }

  function repoOf(params: RepoParams): RepositoryName {
    if (!isNameComponent(params.team) || !isNameComponent(params.artifact)) {
      throw new OciError(400, 'NAME_INVALID', `invalid repository name ${params.team}/${params.artifact}`);
    }
    return { team: params.team, artifact: params.artifact };
  }

  function requireDigest(value: string | undefined, what = 'digest'): string {
    if (value === undefined || value === '')
      throw new OciError(400, 'DIGEST_INVALID', `the ${what} is missing`);
    if (!isDigest(value)) throw new OciError(400, 'DIGEST_INVALID', `"${value}" is not a valid digest`);
    if (!isSupportedDigest(value)) {
      throw new OciError(
        400,
        'DIGEST_INVALID',
        `only sha256 and sha512 digests are supported, got "${value}"`,
      );
    }
    return value;
  }

  const blobUrl = (repo: RepositoryName, digest: string) => `/v2/${repositoryOf(repo)}/blobs/${digest}`;
  const uploadUrl = (repo: RepositoryName, id: string) => `/v2/${repositoryOf(repo)}/blobs/uploads/${id}`;
  const rangeHeader = (size: number) => `0-${Math.max(size - 1, 0)}`;

  function uploadAccepted(
    reply: FastifyReply,
    repo: RepositoryName,
    id: string,
    size: number,
    status: number,
  ) {
    return reply
      .status(status)
      .headers({
        location: uploadUrl(repo, id),
        range: rangeHeader(size),
        'docker-upload-uuid': id,
        'content-length': '0',
      })
      .send();
  }

  async function blobCreated(reply: FastifyReply, repo: RepositoryName, digest: string) {
    return reply
      .status(201)
      .headers({ location: blobUrl(repo, digest), 'docker-content-digest': digest, 'content-length': '0' })
      .send();
  }

  /** A manifest reference to push: a tag (the domain checks its syntax) or a sha256/sha512 digest. */
  function referenceOf(reference: string): string {
    if (!reference.includes(':')) return reference;
    if (!isDigest(reference))
      throw new OciError(400, 'DIGEST_INVALID', `"${reference}" is not a valid digest`);
    if (registeredAlgorithm(reference) === undefined) {
      throw new OciError(
        400,
        'DIGEST_INVALID',
        `only sha256 and sha512 digests are supported, got "${reference}"`,
      );
    }
    return reference;
  }

  /**
   * A manifest reference to read. The spec's only failure there is 404 MANIFEST_UNKNOWN: a
   * reference that is neither a tag nor a supported digest names no manifest (a push answers 400).
   */
  function pullReferenceOf(repo: RepositoryName, reference: string): string {
    if (isTag(reference) || registeredAlgorithm(reference) !== undefined) return reference;
    throw new OciError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} is unknown in ${repositoryOf(repo)}`);
  }

  /** `?tag=` of a manifest push, once or repeated. */
  function queryTags(value: string | string[] | undefined): string[] {
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  /** `Link` header of a paged list, when there is a next page. */
  function linkNext(reply: FastifyReply, path: string, n: number | undefined, next: string | undefined) {
    if (n !== undefined && next !== undefined) {
      reply.header('link', `<${path}?n=${n}&last=${encodeURIComponent(next)}>; rel="next"`);
    }
  }

  return async function registry(app: FastifyInstance): Promise<void> {
    // Bodies stay unread streams: blobs go to the store as they arrive.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    app.addHook('onRequest', async (_request, reply) => {
      reply.header('docker-distribution-api-version', 'registry/2.0');
    });

    app.setErrorHandler((error, request, reply) => {
      // A path parameter the edge guard refused (e.g. `%00`) is named by what the parameter is.
      const named =
        error instanceof UnsafeInputError
          ? pathParamError(error.field, request.params, error.message)
          : undefined;
      const { status, body, headers } = toOciError(named ?? error);
      if (status >= 500) request.log.error({ err: error, req: request }, 'registry request failed');
      if (status === 401 && !headers['www-authenticate']) headers['www-authenticate'] = challenge();
      // Also for requests the kernel's edge guard refused before this plugin's own hooks ran.
      headers['docker-distribution-api-version'] = 'registry/2.0';
      reply.status(status).headers(headers).type('application/json').send(body);
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      const error =
        request.method === 'DELETE'
          ? new OciError(405, 'UNSUPPORTED', UNSUPPORTED_DELETE)
          : /\/(manifests|blobs|tags|referrers)\//.test(path)
            ? new OciError(404, 'NAME_INVALID', `repository names have the form <team>/<artifact>: ${path}`)
            : new OciError(404, 'NAME_UNKNOWN', `no registry endpoint ${request.method} ${path}`);
      const { status, body } = toOciError(error);
      reply.status(status).type('application/json').send(body);
    });

    const hide = { schema: { hide: true } };
    /** Write routes: a refusal nobody recorded is recorded by the kernel's hook under this name. */
    const write = { ...hide, config: audit.route('pierone.repository.push') };

    // --- base and token -----------------------------------------------------------------------

    app.get('/', hide, async (request) => {
      await puller(request, undefined);
      return {};
    });

    /**
     * Docker token flow. The "registry token" handed out is the caller's own OAuth2 access token
     * (validated here first): the registry verifies it like any other, so no second signing key
     * exists and revoking the OAuth2 token revokes registry access too.
     */
    app.get<{ Querystring: { service?: string; scope?: string } }>('/token', hide, async (request) => {
      const token = tokenFromAuthorization(request.headers.authorization);
      if (token === undefined) {
        throw new OciError(
          401,
          'UNAUTHORIZED',
          'send the OAuth2 access token as Basic oauth2:<token>',
          undefined,
          {
            'www-authenticate': `Basic realm="${config.service}"`,
          },
        );
      }
      const principal = await ctx.verifier.verify(token);
      const now = Date.now();
      return {
        token,
        access_token: token,
        expires_in: Math.max(1, Math.floor((principal.expiresAt.getTime() - now) / 1000)),
        issued_at: new Date(now).toISOString(),
      };
    });

    app.get<{ Querystring: { n?: string; last?: string } }>('/_catalog', hide, async (request, reply) => {
      await puller(request, undefined);
      const n = parseN(request.query.n);
      const { names, next } = await manifests.catalog(n, request.query.last);
      linkNext(reply, '/v2/_catalog', n, next);
      return { repositories: names };
    });

    // --- blobs --------------------------------------------------------------------------------

    async function blobSize(request: FastifyRequest<{ Params: RepoParams & { digest: string } }>) {
      const repo = repoOf(request.params);
      await puller(request, repo);
      const digest = requireDigest(request.params.digest);
      const size = await store.linkedBlobSize(repositoryOf(repo), digest);
      if (size === undefined) {
        throw new OciError(404, 'BLOB_UNKNOWN', `blob ${digest} is unknown in ${repositoryOf(repo)}`);
      }
      return { digest, size };
    }

    app.head<{ Params: RepoParams & { digest: string } }>(
      '/:team/:artifact/blobs/:digest',
      hide,
      async (request, reply) => {
        const { digest, size } = await blobSize(request);
        return reply
          .headers({
            'content-length': String(size),
            'docker-content-digest': digest,
            'content-type': 'application/octet-stream',
            'accept-ranges': 'bytes',
            etag: `"${digest}"`,
          })
          .send();
      },
    );

    app.get<{ Params: RepoParams & { digest: string } }>(
      '/:team/:artifact/blobs/:digest',
      { ...hide, exposeHeadRoute: false },
      async (request, reply) => {
        const { digest, size } = await blobSize(request);
        const range = parseRange(request.headers.range, size);
        reply.headers({
          'docker-content-digest': digest,
          'content-type': 'application/octet-stream',
          'accept-ranges': 'bytes',
          etag: `"${digest}"`,
          'cache-control': 'max-age=31536000, immutable',
        });
        if (range === 'unsatisfiable') {
          throw new OciError(
            416,
            'BLOB_UNKNOWN',
            `the range ${request.headers.range} is outside the blob`,
            undefined,
            {
              'content-range': `bytes */${size}`,
            },
          );
        }
        const status = range ? 206 : 200;
        if (range) reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
        reply.header('content-length', String(range ? range.end - range.start + 1 : size));

        const length = range ? range.end - range.start + 1 : size;
        if (blobs.copyTo && length >= FAST_PATH_BYTES) {
          // Large blobs: the store writes straight into the socket, reusing its buffers.
          await blobs.stat(digest).then((found) => {
            if (!found) throw new OciError(404, 'BLOB_UNKNOWN', `blob ${digest} is missing from storage`);
          });
          reply.hijack();
          const raw = reply.raw;
          raw.writeHead(status, reply.getHeaders() as Record<string, string>);
          try {
            await blobs.copyTo(digest, range ?? undefined, raw);
            raw.end();
          } catch (error) {
            request.log.warn({ err: error, digest }, 'blob download broke off');
            raw.destroy();
          }
          return reply;
        }
        reply.status(status);
        return reply.send(await blobs.get(digest, range ?? undefined));
      },
    );

    app.delete('/:team/:artifact/blobs/:digest', hide, async () => {
      throw new OciError(405, 'UNSUPPORTED', UNSUPPORTED_DELETE);
    });

    // --- uploads ------------------------------------------------------------------------------

    app.post<{ Params: RepoParams; Querystring: { digest?: string; mount?: string; from?: string } }>(
      '/:team/:artifact/blobs/uploads/',
      write,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        const { mount, from, digest } = request.query;

        if (mount !== undefined) {
          const mounted = await uploads.mount(actor, repo, requireDigest(mount, 'mount digest'), from ?? '');
          if (mounted) return blobCreated(reply, repo, mounted.digest);
        }

        if (digest !== undefined) {
          const expected = { digest: requireDigest(digest), size: declaredLength(request.raw) };
          const info = await uploads.putWhole(actor, repo, request.raw, expected);
          return blobCreated(reply, repo, info.digest);
        }

        drain(request.raw);
        const id = await uploads.start(actor, repo);
        return uploadAccepted(reply, repo, id, 0, 202);
      },
    );

    app.get<{ Params: RepoParams & { id: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        const size = await uploads.status(actor, repo, request.params.id);
        return uploadAccepted(reply, repo, request.params.id, size, 204);
      },
    );

    app.patch<{ Params: RepoParams & { id: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      write,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        const { id } = request.params;
        const range = parseContentRange(request.headers['content-range'], declaredLength(request.raw));
        const size = await uploads.append(actor, repo, id, request.raw, range?.start);
        return uploadAccepted(reply, repo, id, size, 202);
      },
    );

    app.put<{ Params: RepoParams & { id: string }; Querystring: { digest?: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      write,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        const digest = requireDigest(request.query.digest);
        const range = parseContentRange(request.headers['content-range'], declaredLength(request.raw));
        const last = hasBody(request.raw) ? { source: request.raw, offset: range?.start } : undefined;
        const info = await uploads.finish(actor, repo, request.params.id, digest, last);
        return blobCreated(reply, repo, info.digest);
      },
    );

    app.delete<{ Params: RepoParams & { id: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      write,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        await uploads.cancel(actor, repo, request.params.id);
        return reply.status(204).send();
      },
    );

    // --- manifests ----------------------------------------------------------------------------

    function manifestHeaders(reply: FastifyReply, manifest: StoredManifest) {
      return reply.headers({
        'content-type': manifest.mediaType,
        'docker-content-digest': manifest.digest,
        'content-length': String(manifest.content.length),
        etag: `"${manifest.digest}"`,
      });
    }

    app.head<{ Params: RepoParams & { reference: string } }>(
      '/:team/:artifact/manifests/:reference',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        await puller(request, repo);
        const manifest = await manifests.resolve(repo, pullReferenceOf(repo, request.params.reference));
        return manifestHeaders(reply, manifest).send();
      },
    );

    app.get<{ Params: RepoParams & { reference: string } }>(
      '/:team/:artifact/manifests/:reference',
      { ...hide, exposeHeadRoute: false },
      async (request, reply) => {
        const repo = repoOf(request.params);
        await puller(request, repo);
        const manifest = await manifests.resolve(repo, pullReferenceOf(repo, request.params.reference));
        return manifestHeaders(reply, manifest).send(manifest.content);
      },
    );

    app.put<{ Params: RepoParams & { reference: string }; Querystring: { tag?: string | string[] } }>(
      '/:team/:artifact/manifests/:reference',
      write,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        const scmHeader = request.headers['x-scm-source'];
        const pushed = await manifests.push(actor, {
          repo,
          reference: referenceOf(request.params.reference),
          contentType: request.headers['content-type'],
          body: request.raw,
          declaredLength: declaredLength(request.raw),
          // A repeated header is no valid scm-source document: the domain refuses it as such.
          scmSourceHeader: scmHeader === undefined ? undefined : String(scmHeader),
          tags: queryTags(request.query.tag),
        });
        reply.status(201).headers({
          location: `/v2/${pushed.repository}/manifests/${pushed.digest}`,
          'docker-content-digest': pushed.digest,
          'content-length': '0',
        });
        if (pushed.subject) reply.header('oci-subject', pushed.subject);
        // One OCI-Tag header per tag the `?tag=` push created, as the spec asks of registries that support it.
        if (pushed.tags.length > 0) reply.header('oci-tag', pushed.tags);
        return reply.send();
      },
    );

    /**
     * Deletion, for platform admins holding `pierone.admin.delete` only, with a mandatory reason
     * (`X-Deletion-Reason` header or `?reason=`): 202. Everyone else gets 405 (audited), as from a
     * registry without deletion: for teams Pier One's content stays immutable.
     */
    app.delete<{ Params: RepoParams & { reference: string }; Querystring: { reason?: string } }>(
      '/:team/:artifact/manifests/:reference',
      { ...hide, config: audit.route('pierone.manifest.delete') },
      async (request, reply) => {
        const repo = repoOf(request.params);
        const actor = await pusher(request, repo);
        const reference = request.params.reference;
        if (reference.includes(':')) referenceOf(reference);
        else if (!isTag(reference))
          throw new OciError(400, 'TAG_INVALID', `"${reference}" is not a valid tag`);
        const header = request.headers['x-deletion-reason'];
        const reason = typeof header === 'string' ? header : request.query.reason;
        await manifests.delete(
          actor,
          repo,
          reference,
          reason,
          () => new OciError(405, 'UNSUPPORTED', UNSUPPORTED_DELETE),
        );
        return reply.status(202).header('content-length', '0').send();
      },
    );

    // --- discovery ----------------------------------------------------------------------------

    app.get<{ Params: RepoParams; Querystring: { n?: string; last?: string } }>(
      '/:team/:artifact/tags/list',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        await puller(request, repo);
        const n = parseN(request.query.n);
        const { names, next } = await manifests.tagNames(repo, n, request.query.last);
        linkNext(reply, `/v2/${repositoryOf(repo)}/tags/list`, n, next);
        return { name: repositoryOf(repo), tags: names };
      },
    );

    app.get<{
      Params: RepoParams & { digest: string };
      Querystring: { artifactType?: string; n?: string; last?: string };
    }>('/:team/:artifact/referrers/:digest', hide, async (request, reply) => {
      const repo = repoOf(request.params);
      await puller(request, repo);
      const subject = request.params.digest;
      if (!isDigest(subject)) throw new OciError(400, 'DIGEST_INVALID', `"${subject}" is not a valid digest`);
      const { artifactType, last } = request.query;
      const n = parseN(request.query.n) ?? REFERRERS_PAGE_SIZE;
      const page = await manifests.referrers(repo, subject, { artifactType, n, last });
      if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
      if (page.next !== undefined) {
        const query = new URLSearchParams({
          n: String(n),
          last: page.next,
          ...(artifactType !== undefined ? { artifactType } : {}),
        });
        reply.header('link', `</v2/${repositoryOf(repo)}/referrers/${subject}?${query}>; rel="next"`);
      }
      // A Buffer, so that the content type goes out exactly as the spec names it (no charset).
      return reply.type(MEDIA_TYPES.ociIndex).send(referrersIndex(page.manifests));
    });
  };
}

// --- helpers -------------------------------------------------------------------------------

function parseN(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new OciError(400, 'UNSUPPORTED', `n must be a non-negative integer, got "${value}"`);
  return Math.min(n, 10_000);
}

function declaredLength(raw: IncomingMessage): number | undefined {
  const value = raw.headers['content-length'];
  if (value === undefined || raw.headers['transfer-encoding'] !== undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function hasBody(raw: IncomingMessage): boolean {
  if (raw.headers['transfer-encoding'] !== undefined) return true;
  return (declaredLength(raw) ?? 0) > 0;
}

/** Discards a body nobody asked for, so the connection stays usable. */
function drain(raw: IncomingMessage): void {
  if (hasBody(raw)) raw.resume();
}

/** `Content-Range` of a chunk (`<start>-<end>`, optionally with a `bytes` unit and a total). */
function parseContentRange(value: string | undefined, length: number | undefined): ByteRange | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!match) throw new OciError(400, 'BLOB_UPLOAD_INVALID', `malformed Content-Range "${value}"`);
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start)
    throw new OciError(416, 'BLOB_UPLOAD_INVALID', `Content-Range "${value}" ends before it starts`);
  if (length !== undefined && end - start + 1 !== length) {
    throw new OciError(
      400,
      'SIZE_INVALID',
      `Content-Range "${value}" does not match Content-Length ${length}`,
    );
  }
  return { start, end };
}

/** One range of `Range: bytes=…`; multiple ranges are answered with the whole blob. */
function parseRange(value: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
