import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenFromAuthorization } from '../platform/auth/bearer.js';
import type { Principal } from '../platform/auth/principal.js';
import { type BlobStore, type ByteRange, isSha256Digest } from '../platform/blob-store/blob-store.js';
import { NotAuthenticatedError } from '../platform/errors.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { PushAccess } from './access.js';
import { SCOPES } from './access.js';
import { allowsAnonymousPull, type PierOneConfig } from './config.js';
import { digestOfBytes } from './digest.js';
import { MEDIA_TYPES, parseManifest } from './manifest.js';
import { OciError, toOciError } from './oci-errors.js';
import {
  isDigest,
  isNameComponent,
  isSnapshotTag,
  isTag,
  LATEST_TAG,
  type RepositoryName,
  repositoryOf,
} from './reference.js';
import { parseScmSource, type ScmSourceScanner } from './scm-source.js';
import type { PierOneStore, StoredManifest } from './store.js';

export interface RegistryDeps {
  ctx: ServiceContext;
  store: PierOneStore;
  blobs: BlobStore;
  access: PushAccess;
  scanner: ScmSourceScanner;
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
  'Pier One never deletes content: tags are immutable and images stay available so that every ' +
  'deployment can be traced back to its source';

/**
 * The OCI distribution API under `/v2/`, as an encapsulated plugin: its own error shape, its own
 * body handling (request streams go straight to the blob store, never through a body parser).
 */
export function registryPlugin(deps: RegistryDeps) {
  const { ctx, store, blobs, access, scanner, config } = deps;

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

  /** The caller, checked for `action` on `repo`; undefined only for allowed anonymous pulls. */
  async function authorize(request: FastifyRequest, repo: RepositoryName | undefined, action: Action) {
    let principal: Principal | undefined;
    try {
      principal = await authenticate(request);
    } catch (error) {
      if (error instanceof NotAuthenticatedError) {
        throw new OciError(401, 'UNAUTHORIZED', error.message, undefined, {
          'www-authenticate': challenge(repo, action),
        });
      }
      throw error;
    }
    if (!principal) {
      if (action === 'pull' && allowsAnonymousPull(config, repo?.team)) return undefined;
      throw new OciError(
        401,
        'UNAUTHORIZED',
        'authentication required: use a Bearer token or Basic oauth2:<token>',
        undefined,
        {
          'www-authenticate': challenge(repo, action),
        },
      );
    }
    if (action === 'push' && repo) await access.assertPush(principal, repo.team);
    return principal;
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
    if (!isSha256Digest(value)) {
      throw new OciError(400, 'DIGEST_INVALID', `only sha256 digests are supported, got "${value}"`);
    }
    return value;
  }

  async function audit(
    request: FastifyRequest,
    principal: Principal,
    action: string,
    target: { type: string; id: string },
    outcome: 'success' | 'failure',
    details?: Record<string, unknown>,
  ): Promise<void> {
    await ctx.auditLog.record({
      service: 'pierone',
      action,
      actor: principal,
      target,
      outcome,
      ...(details ? { details } : {}),
      requestId: request.id,
    });
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

  // Which repository an upload belongs to, remembered so that chunks do not each ask the database.
  const uploadOwners = new Map<string, string>();
  const forgetUpload = (request: FastifyRequest, id: string) => {
    uploadOwners.delete(id);
    store
      .deleteUpload(id)
      .catch((error: unknown) => request.log.warn({ err: error, id }, 'upload record not deleted'));
  };

  async function uploadOf(repo: RepositoryName, id: string): Promise<void> {
    let owner = uploadOwners.get(id);
    if (owner === undefined) {
      owner = await store.uploadRepository(id);
      if (owner !== undefined && uploadOwners.size < 100_000) uploadOwners.set(id, owner);
    }
    if (owner !== repositoryOf(repo)) {
      throw new OciError(404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown in ${repositoryOf(repo)}`);
    }
  }

  async function resolveManifest(repo: RepositoryName, reference: string): Promise<StoredManifest> {
    const repository = repositoryOf(repo);
    let digest: string | undefined;
    if (reference.includes(':')) {
      digest = requireDigest(reference);
    } else {
      if (!isTag(reference)) throw new OciError(400, 'TAG_INVALID', `"${reference}" is not a valid tag`);
      digest = await store.tagDigest(repo.team, repo.artifact, reference);
      if (digest === undefined && reference === LATEST_TAG) {
        digest = await store.newestTagDigest(repo.team, repo.artifact);
      }
    }
    const manifest = digest === undefined ? undefined : await store.getManifest(repository, digest);
    if (!manifest) {
      throw new OciError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} is unknown in ${repository}`);
    }
    return manifest;
  }

  return async function registry(app: FastifyInstance): Promise<void> {
    // Bodies stay unread streams: blobs go to the store as they arrive.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    app.addHook('onRequest', async (_request, reply) => {
      reply.header('docker-distribution-api-version', 'registry/2.0');
    });

    app.setErrorHandler((error, request, reply) => {
      const { status, body, headers } = toOciError(error);
      if (status >= 500) request.log.error({ err: error, req: request }, 'registry request failed');
      if (status === 401 && !headers['www-authenticate']) headers['www-authenticate'] = challenge();
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

    // --- base and token -----------------------------------------------------------------------

    app.get('/', hide, async (request) => {
      await authorize(request, undefined, 'pull');
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
      await authorize(request, undefined, 'pull');
      const n = parseN(request.query.n);
      const last = request.query.last;
      if (n === 0) return { repositories: [] };
      const page = await store.catalog(n === undefined ? undefined : n + 1, last);
      const repositories = n === undefined ? page : page.slice(0, n);
      if (n !== undefined && page.length > n) {
        const next = repositories[repositories.length - 1]!;
        reply.header('link', `</v2/_catalog?n=${n}&last=${encodeURIComponent(next)}>; rel="next"`);
      }
      return { repositories };
    });

    // --- blobs --------------------------------------------------------------------------------

    async function blobSize(request: FastifyRequest<{ Params: RepoParams & { digest: string } }>) {
      const repo = repoOf(request.params);
      await authorize(request, repo, 'pull');
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
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const principal = (await authorize(request, repo, 'push'))!;
        const repository = repositoryOf(repo);
        const { mount, from, digest } = request.query;

        if (mount !== undefined) {
          const mounted = requireDigest(mount, 'mount digest');
          const source = from ?? '';
          // Mounting reads the source repository: any valid token may (pull rights), and the
          // content moves nowhere.
          const size = await store.linkedBlobSize(source, mounted);
          if (size !== undefined && (await blobs.exists(mounted))) {
            await store.linkBlob(repository, mounted, size, principal.uid);
            await audit(
              request,
              principal,
              'pierone.blob.mount',
              { type: 'blob', id: `${repository}@${mounted}` },
              'success',
              {
                from: source,
                size,
              },
            );
            return blobCreated(reply, repo, mounted);
          }
          // Not mountable: fall back to an ordinary upload, as the spec allows.
        }

        if (digest !== undefined) {
          const expected = requireDigest(digest);
          const info = await blobs.put(request.raw, { digest: expected, size: declaredLength(request.raw) });
          await store.linkBlob(repository, info.digest, info.size, principal.uid);
          await audit(
            request,
            principal,
            'pierone.blob.upload',
            { type: 'blob', id: `${repository}@${info.digest}` },
            'success',
            {
              size: info.size,
            },
          );
          return blobCreated(reply, repo, info.digest);
        }

        drain(request.raw);
        const id = await blobs.uploads.create();
        await store.createUpload(id, repository, principal.uid);
        uploadOwners.set(id, repository);
        return uploadAccepted(reply, repo, id, 0, 202);
      },
    );

    app.get<{ Params: RepoParams & { id: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        await authorize(request, repo, 'push');
        await uploadOf(repo, request.params.id);
        const size = await blobs.uploads.size(request.params.id);
        if (size === undefined)
          throw new OciError(404, 'BLOB_UPLOAD_UNKNOWN', `upload ${request.params.id} is unknown`);
        return uploadAccepted(reply, repo, request.params.id, size, 204);
      },
    );

    app.patch<{ Params: RepoParams & { id: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        await authorize(request, repo, 'push');
        const { id } = request.params;
        await uploadOf(repo, id);
        const range = parseContentRange(request.headers['content-range'], declaredLength(request.raw));
        const size = await blobs.uploads.append(id, request.raw, range?.start);
        return uploadAccepted(reply, repo, id, size, 202);
      },
    );

    app.put<{ Params: RepoParams & { id: string }; Querystring: { digest?: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const principal = (await authorize(request, repo, 'push'))!;
        const { id } = request.params;
        await uploadOf(repo, id);
        const digest = requireDigest(request.query.digest);
        const range = parseContentRange(request.headers['content-range'], declaredLength(request.raw));
        const last = hasBody(request.raw) ? { source: request.raw, offset: range?.start } : undefined;
        const repository = repositoryOf(repo);
        let info: Awaited<ReturnType<typeof blobs.uploads.commit>>;
        try {
          info = await blobs.uploads.commit(id, digest, last);
        } catch (error) {
          // A wrong digest ends the upload: the session's data is gone with it.
          if ((error as { code?: string }).code === 'DIGEST_INVALID') {
            forgetUpload(request, id);
            await audit(
              request,
              principal,
              'pierone.blob.upload',
              { type: 'blob', id: `${repository}@${digest}` },
              'failure',
              {
                reason: 'digest mismatch',
              },
            );
          }
          throw error;
        }
        await store.linkBlob(repository, info.digest, info.size, principal.uid);
        forgetUpload(request, id);
        await audit(
          request,
          principal,
          'pierone.blob.upload',
          { type: 'blob', id: `${repository}@${info.digest}` },
          'success',
          {
            size: info.size,
          },
        );
        return blobCreated(reply, repo, info.digest);
      },
    );

    app.delete<{ Params: RepoParams & { id: string } }>(
      '/:team/:artifact/blobs/uploads/:id',
      hide,
      async (request, reply) => {
        // Cancelling an unfinished upload deletes nothing that was ever visible.
        const repo = repoOf(request.params);
        await authorize(request, repo, 'push');
        await uploadOf(repo, request.params.id);
        await blobs.uploads.cancel(request.params.id).catch(() => {});
        forgetUpload(request, request.params.id);
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
        await authorize(request, repo, 'pull');
        const manifest = await resolveManifest(repo, request.params.reference);
        return manifestHeaders(reply, manifest).send();
      },
    );

    app.get<{ Params: RepoParams & { reference: string } }>(
      '/:team/:artifact/manifests/:reference',
      { ...hide, exposeHeadRoute: false },
      async (request, reply) => {
        const repo = repoOf(request.params);
        await authorize(request, repo, 'pull');
        const manifest = await resolveManifest(repo, request.params.reference);
        return manifestHeaders(reply, manifest).send(manifest.content);
      },
    );

    app.put<{ Params: RepoParams & { reference: string } }>(
      '/:team/:artifact/manifests/:reference',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        const principal = (await authorize(request, repo, 'push'))!;
        const repository = repositoryOf(repo);
        const { reference } = request.params;
        const byDigest = reference.includes(':');
        if (byDigest) requireDigest(reference);
        else if (!isTag(reference))
          throw new OciError(400, 'TAG_INVALID', `"${reference}" is not a valid tag`);
        if (reference === LATEST_TAG) {
          throw new OciError(
            409,
            'TAG_INVALID',
            'the tag "latest" cannot be pushed: Pier One tags are immutable, so "latest" would lie. ' +
              'Push a version tag; reading "latest" gives the newest tag',
          );
        }
        const scmHeader = request.headers['x-scm-source'];
        if (scmHeader !== undefined && !principal.scopes.has(SCOPES.writeAllTrusted)) {
          throw new OciError(
            403,
            'DENIED',
            `the X-SCM-Source header needs the scope ${SCOPES.writeAllTrusted}`,
          );
        }

        const content = await readBody(request.raw, config.maxManifestBytes);
        const digest = digestOfBytes(content);
        if (byDigest && reference !== digest) {
          throw new OciError(400, 'DIGEST_INVALID', `the manifest's digest is ${digest}, not ${reference}`);
        }
        const parsed = parseManifest(content, request.headers['content-type']);

        const mutable = !byDigest && config.snapshotTagsMutable && isSnapshotTag(reference);
        if (!byDigest && !mutable) {
          // Fail fast, before any layer is read; the transaction below decides races.
          const existing = await store.tagDigest(repo.team, repo.artifact, reference);
          if (existing !== undefined && existing !== digest) {
            await tagConflict(request, principal, repo, reference, existing, digest);
          }
        }

        const linked = await store.linkedBlobs(repository, parsed.blobs);
        const missingBlobs = parsed.blobs.filter((d) => !linked.has(d));
        const present = await store.existingManifests(repository, parsed.manifests);
        const missingManifests = parsed.manifests.filter((d) => !present.has(d));
        if (missingBlobs.length || missingManifests.length) {
          throw new OciError(
            400,
            'MANIFEST_BLOB_UNKNOWN',
            `the manifest refers to content that is not in ${repository}: ${[...missingBlobs, ...missingManifests].join(', ')}`,
            { blobs: missingBlobs, manifests: missingManifests },
          );
        }

        let scmSource: Record<string, unknown> | undefined;
        if (typeof scmHeader === 'string') {
          scmSource = parseScmSource(scmHeader);
          if (!scmSource) {
            throw new OciError(
              400,
              'MANIFEST_INVALID',
              'the X-SCM-Source header is not a valid scm-source JSON object',
            );
          }
        } else if (parsed.kind === 'image') {
          scmSource = await scanner.find(parsed.layers);
        }

        const outcome = await store.putManifest(
          {
            repository,
            digest,
            mediaType: parsed.mediaType,
            content,
            subject: parsed.subject,
            artifactType: parsed.artifactType,
            annotations: parsed.annotations,
            scmSource,
            createdBy: principal.uid,
          },
          byDigest ? undefined : { team: repo.team, artifact: repo.artifact, name: reference, mutable },
        );
        if (outcome?.kind === 'conflict') {
          await tagConflict(request, principal, repo, reference, outcome.existing, digest);
        }
        await audit(
          request,
          principal,
          byDigest ? 'pierone.manifest.push' : 'pierone.tag.create',
          byDigest
            ? { type: 'manifest', id: `${repository}@${digest}` }
            : { type: 'tag', id: `${repository}:${reference}` },
          'success',
          {
            digest,
            mediaType: parsed.mediaType,
            scm_source_present: scmSource !== undefined,
            ...(outcome ? { outcome: outcome.kind } : {}),
            ...(outcome?.kind === 'replaced' ? { previous: outcome.previous } : {}),
          },
        );
        reply.status(201).headers({
          location: `/v2/${repository}/manifests/${digest}`,
          'docker-content-digest': digest,
          'content-length': '0',
        });
        if (parsed.subject) reply.header('oci-subject', parsed.subject);
        return reply.send();
      },
    );

    async function tagConflict(
      request: FastifyRequest,
      principal: Principal,
      repo: RepositoryName,
      tag: string,
      existing: string,
      pushed: string,
    ): Promise<never> {
      const repository = repositoryOf(repo);
      await audit(
        request,
        principal,
        'pierone.tag.create',
        { type: 'tag', id: `${repository}:${tag}` },
        'failure',
        {
          reason: 'immutable tag',
          existing,
          pushed,
        },
      );
      throw new OciError(
        409,
        'TAG_INVALID',
        `tag ${tag} of ${repository} already points to ${existing}; tags are immutable, push a new tag`,
        { tag, existing, pushed },
      );
    }

    app.delete('/:team/:artifact/manifests/:reference', hide, async () => {
      throw new OciError(405, 'UNSUPPORTED', UNSUPPORTED_DELETE);
    });

    // --- discovery ----------------------------------------------------------------------------

    app.get<{ Params: RepoParams; Querystring: { n?: string; last?: string } }>(
      '/:team/:artifact/tags/list',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        await authorize(request, repo, 'pull');
        const repository = repositoryOf(repo);
        const n = parseN(request.query.n);
        const { last } = request.query;
        const names =
          n === 0
            ? []
            : await store.tagNames(repo.team, repo.artifact, n === undefined ? undefined : n + 1, last);
        if (names.length === 0 && !(await store.repositoryExists(repository))) {
          throw new OciError(404, 'NAME_UNKNOWN', `repository ${repository} is unknown`);
        }
        const tags = n === undefined ? names : names.slice(0, n);
        if (n !== undefined && names.length > n) {
          const next = tags[tags.length - 1]!;
          reply.header(
            'link',
            `</v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(next)}>; rel="next"`,
          );
        }
        return { name: repository, tags };
      },
    );

    app.get<{ Params: RepoParams & { digest: string }; Querystring: { artifactType?: string } }>(
      '/:team/:artifact/referrers/:digest',
      hide,
      async (request, reply) => {
        const repo = repoOf(request.params);
        await authorize(request, repo, 'pull');
        const subject = request.params.digest;
        if (!isDigest(subject))
          throw new OciError(400, 'DIGEST_INVALID', `"${subject}" is not a valid digest`);
        const filter = request.query.artifactType;
        const referrers = await store.referrers(repositoryOf(repo), subject);
        const manifests = referrers
          .filter((m) => filter === undefined || m.artifactType === filter)
          .map((m) => ({
            mediaType: m.mediaType,
            digest: m.digest,
            size: m.content.length,
            ...(m.artifactType ? { artifactType: m.artifactType } : {}),
            ...(m.annotations ? { annotations: m.annotations } : {}),
          }));
        if (filter !== undefined) reply.header('oci-filters-applied', 'artifactType');
        // A Buffer, so that the content type goes out exactly as the spec names it (no charset).
        return reply
          .type(MEDIA_TYPES.ociIndex)
          .send(
            Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests })),
          );
      },
    );
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

/** Reads a small body (a manifest) into memory, refusing more than `limit` bytes. */
async function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(raw);
  if (declared !== undefined && declared > limit) {
    raw.resume();
    throw new OciError(
      413,
      'SIZE_INVALID',
      `manifests may be at most ${limit} bytes, this one has ${declared}`,
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of raw) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      raw.resume();
      throw new OciError(413, 'SIZE_INVALID', `manifests may be at most ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
