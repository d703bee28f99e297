import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticate, principalOf } from '../platform/auth/http-auth.js';
import { formatTimestamp } from '../platform/db/timestamps.js';
import {
  InputError,
  MethodNotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  PreconditionFailedError,
} from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { PierOneConfig } from './config.js';
import {
  DeletedTagSchema,
  DeletionReasonSchema,
  DeletionSchema,
  NameSchema,
  ProductionReadySchema,
  ScmSourceSchema,
  TagSchema,
  TagSearchResultSchema,
} from './contract.js';
import { ANONYMOUS, type PierOneAudit, recordRefusal } from './access.js';
import { describeDeletion, type Manifests } from './manifests.js';
import type { DeletedTag, PierOneStore, TagRecord } from './store.js';
import { apiGuards } from './route-guards.js';

export interface ApiDeps {
  ctx: ServiceContext;
  store: PierOneStore;
  manifests: Manifests;
  audit: PierOneAudit;
  config: PierOneConfig;
}

function toTag(tag: TagRecord): z.infer<typeof TagSchema> {
  return {
    name: tag.name,
    created: formatTimestamp(tag.created),
    created_by: tag.createdBy,
    image: tag.imageId,
    scm_source_present: tag.scmSource !== null,
    ...(tag.incidentId ? { incident_id: tag.incidentId } : {}),
  };
}

function toDeletedTag(tag: DeletedTag): z.infer<typeof DeletedTagSchema> {
  return {
    name: tag.name,
    digest: tag.digest,
    deleted_by: tag.deletedBy,
    deleted_at: formatTimestamp(tag.deletedAt),
    reason: tag.reason,
    description: describeDeletion(tag),
  };
}

/** A deletion's reason: `X-Deletion-Reason`, `?reason=` or the body's `reason`, in that order. */
function reasonOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-deletion-reason'];
  if (typeof header === 'string') return header;
  const query = (request.query as { reason?: unknown } | undefined)?.reason;
  if (typeof query === 'string') return query;
  const body = request.body as { reason?: unknown } | undefined;
  return typeof body?.reason === 'string' ? body.reason : undefined;
}

const TeamParams = z.object({ team: NameSchema });
const ArtifactParams = z.object({ team: NameSchema, artifact: NameSchema });
const TagParams = z.object({ team: NameSchema, artifact: NameSchema, tag: z.string().min(1).max(128) });
const secured = [{ bearer: [] }];

/** The STUPS API that the `pierone` CLI, fullstop and deployment tooling read. */
export function registerApiRoutes(app: HttpApp, deps: ApiDeps): void {
  const { ctx, store, manifests, audit, config } = deps;

  const { readGuard } = apiGuards(ctx, config);

  async function tagsOrNotFound(team: string, artifact: string): Promise<TagRecord[]> {
    const tags = await store.tags(team, artifact);
    if (tags.length === 0) throw new NotFoundError(`artifact ${team}/${artifact} has no tags`);
    return tags;
  }

  async function oneTag(team: string, artifact: string, name: string): Promise<TagRecord> {
    let tag = await store.tag(team, artifact, name);
    if (!tag && name === 'latest') tag = (await store.tags(team, artifact)).at(-1);
    if (!tag) {
      const deleted = await store.deletedTag(team, artifact, name);
      throw new NotFoundError(
        `tag ${team}/${artifact}:${name} ${deleted ? `was ${describeDeletion(deleted)}` : 'does not exist'}`,
      );
    }
    return tag;
  }

  app.get(
    '/teams',
    {
      preHandler: readGuard,
      schema: {
        tags: ['teams'],
        summary: 'Teams with artifacts',
        security: secured,
        response: { 200: z.array(z.string()) },
      },
    },
    async () => store.teams(),
  );

  app.get(
    '/teams/:team/artifacts',
    {
      preHandler: readGuard,
      schema: {
        tags: ['artifacts'],
        summary: "A team's artifacts (empty for an unknown team)",
        security: secured,
        params: TeamParams,
        response: { 200: z.array(z.string()) },
      },
    },
    async (request) => store.artifacts(request.params.team),
  );

  app.get(
    '/teams/:team/artifacts/:artifact/tags',
    {
      preHandler: readGuard,
      schema: {
        tags: ['tags'],
        summary: "An artifact's tags, oldest first (404 when there are none)",
        security: secured,
        params: ArtifactParams,
        response: { 200: z.array(TagSchema) },
      },
    },
    async (request) => (await tagsOrNotFound(request.params.team, request.params.artifact)).map(toTag),
  );

  app.get(
    '/teams/:team/artifacts/:artifact/tags/:tag',
    {
      preHandler: readGuard,
      schema: {
        tags: ['tags'],
        summary: 'One tag ("latest" is the newest)',
        security: secured,
        params: TagParams,
        response: { 200: TagSchema },
      },
    },
    async (request) => toTag(await oneTag(request.params.team, request.params.artifact, request.params.tag)),
  );

  app.get(
    '/teams/:team/artifacts/:artifact/tags/:tag/scm-source',
    {
      preHandler: readGuard,
      schema: {
        tags: ['tags'],
        summary: "The image's scm-source.json (404 when it has none)",
        security: secured,
        params: TagParams,
        response: { 200: ScmSourceSchema },
      },
    },
    async (request) => {
      const { team, artifact, tag: name } = request.params;
      const tag = await oneTag(team, artifact, name);
      if (!tag.scmSource) throw new NotFoundError(`image ${team}/${artifact}:${name} has no scm-source.json`);
      const s = tag.scmSource;
      const text = (value: unknown) => (typeof value === 'string' ? value : '');
      return {
        url: text(s.url),
        revision: text(s.revision),
        author: text(s.author),
        status: text(s.status),
        created: formatTimestamp(tag.scmSourceCreated ?? tag.created),
      };
    },
  );

  app.post(
    '/teams/:team/artifacts/:artifact/tags/:tag/production-ready',
    {
      preHandler: async (request) => {
        try {
          request.principal = await authenticate(ctx.verifier, request);
        } catch (error) {
          if (!(error instanceof NotAuthenticatedError)) throw error;
          // A mark refused for want of credentials is a refused write too, named like the mark.
          const { team, artifact, tag } = request.params;
          throw await recordRefusal(
            audit,
            ANONYMOUS,
            request.id,
            { event: 'pierone.tag.production-ready', targetId: `${team}/${artifact}:${tag}` },
            error,
          );
        }
      },
      config: audit.route('pierone.tag.production-ready'),
      schema: {
        tags: ['tags'],
        summary: 'Marks a tag production-ready for an incident/change id (push rights needed)',
        security: secured,
        params: TagParams,
        body: ProductionReadySchema,
        response: { 200: TagSchema },
      },
    },
    async (request) => {
      const { team, artifact, tag: name } = request.params;
      const actor = { principal: principalOf(request), requestId: request.id };
      return toTag(
        await manifests.markProductionReady(actor, { team, artifact }, name, request.body.incident_id),
      );
    },
  );

  app.get(
    '/tags/:image',
    {
      preHandler: readGuard,
      schema: {
        tags: ['tags'],
        summary: 'Tags of the image whose id starts with the given prefix (412 if ambiguous)',
        description:
          "An image's id is its config digest, as `docker images` shows it (an index has no " +
          'single config: its id is its own digest). A prefix of the manifest digest finds the ' +
          'image too. 404 when nothing starts with the prefix, 412 when it fits several images; ' +
          'the empty prefix (`sha256:`) fits every image and is always 412.',
        security: secured,
        params: z.object({ image: z.string().min(1).max(140) }),
        response: { 200: z.array(TagSearchResultSchema) },
      },
    },
    async (request) => {
      const raw = request.params.image;
      // Ids and digests are sha256, or sha512 for content pushed by a sha512 digest.
      const algorithm = raw.startsWith('sha512:') ? 'sha512' : 'sha256';
      const hex = raw.startsWith(`${algorithm}:`) ? raw.slice(algorithm.length + 1) : raw;
      if (!(algorithm === 'sha512' ? /^[a-f0-9]{0,128}$/ : /^[a-f0-9]{0,64}$/).test(hex)) {
        throw new InputError(
          `"${raw}" is not an image digest or a prefix of one (hex, optionally sha256: or sha512:)`,
        );
      }
      if (hex === '') {
        throw new PreconditionFailedError(`the empty prefix ${raw} matches every image; give digits`);
      }
      const found = await store.tagsByDigestPrefix(`${algorithm}:${hex}`, 1000);
      if (found.length === 0) throw new NotFoundError(`no image id or digest starts with ${raw}`);
      // One image may be tagged many times, in many repositories, and through several manifests
      // (Docker and OCI, other compression) of one config: those are still one image.
      const images = new Set(found.map((t) => t.imageId));
      if (images.size > 1) {
        throw new PreconditionFailedError(
          `the prefix ${raw} matches ${images.size} images; give more digits`,
        );
      }
      return found.map((t) => ({ name: t.name, team: t.team, artifact: t.artifact }));
    },
  );

  app.get(
    '/v1/repositories/:team/:artifact/tags',
    {
      preHandler: readGuard,
      schema: {
        tags: ['legacy'],
        summary: 'Legacy v1 tag map {tag: image id}',
        security: secured,
        params: ArtifactParams,
        response: { 200: z.record(z.string(), z.string()) },
      },
    },
    async (request) => {
      const tags = await tagsOrNotFound(request.params.team, request.params.artifact);
      return Object.fromEntries(tags.map((t) => [t.name, t.imageId]));
    },
  );

  const UNSUPPORTED_DELETE =
    'Pier One does not delete content for teams: images stay so that every deployment remains ' +
    'traceable (platform admins with pierone.admin.delete may, giving a reason)';
  const noDelete = async () => {
    throw new MethodNotAllowedError(UNSUPPORTED_DELETE, { code: 'UNSUPPORTED' });
  };

  /** Authenticates a deletion; a deletion refused for want of credentials is audited as one. */
  const deleteGuard =
    (event: 'pierone.tag.delete' | 'pierone.manifest.delete') => async (request: FastifyRequest) => {
      try {
        request.principal = await authenticate(ctx.verifier, request);
      } catch (error) {
        if (!(error instanceof NotAuthenticatedError)) throw error;
        const { team, artifact, tag, digest } = request.params as Record<string, string>;
        const targetId = tag !== undefined ? `${team}/${artifact}:${tag}` : `${team}/${artifact}@${digest}`;
        throw await recordRefusal(audit, ANONYMOUS, request.id, { event, targetId }, error);
      }
    };

  app.delete(
    '/teams/:team/artifacts/:artifact/tags/:tag',
    {
      preHandler: deleteGuard('pierone.tag.delete'),
      config: audit.route('pierone.tag.delete'),
      schema: {
        tags: ['tags'],
        summary: 'Deletes a tag (platform admins with pierone.admin.delete only; reason mandatory)',
        description:
          'For leaked secrets or legal reasons. The reason comes from `X-Deletion-Reason`, `?reason=` ' +
          'or the JSON body. The tag name stays burnt: it can never be pushed again. 405 for everyone else.',
        security: secured,
        params: TagParams,
        querystring: z.object({ reason: z.string().optional() }),
        body: DeletionReasonSchema.nullish(),
        response: { 200: DeletionSchema },
      },
    },
    async (request) => {
      const { team, artifact, tag } = request.params;
      const actor = { principal: principalOf(request), requestId: request.id };
      await manifests.delete(
        actor,
        { team, artifact },
        tag,
        reasonOf(request),
        () => new MethodNotAllowedError(UNSUPPORTED_DELETE, { code: 'UNSUPPORTED' }),
      );
      const deleted = await store.deletedTag(team, artifact, tag);
      return {
        deleted: `${team}/${artifact}:${tag}`,
        tags: [tag],
        deleted_by: deleted?.deletedBy ?? actor.principal.uid,
        reason: deleted?.reason ?? '',
      };
    },
  );

  app.delete(
    '/teams/:team/artifacts/:artifact/manifests/:digest',
    {
      preHandler: deleteGuard('pierone.manifest.delete'),
      config: audit.route('pierone.manifest.delete'),
      schema: {
        tags: ['tags'],
        summary:
          'Deletes a manifest by digest and every tag on it (platform admins with pierone.admin.delete only)',
        description:
          'The reason is mandatory (`X-Deletion-Reason`, `?reason=` or the JSON body). The tags are burnt. ' +
          '405 for everyone else.',
        security: secured,
        params: z.object({
          team: NameSchema,
          artifact: NameSchema,
          digest: z.string().regex(/^sha(256|512):[a-f0-9]+$/),
        }),
        querystring: z.object({ reason: z.string().optional() }),
        body: DeletionReasonSchema.nullish(),
        response: { 200: DeletionSchema },
      },
    },
    async (request) => {
      const { team, artifact, digest } = request.params;
      const actor = { principal: principalOf(request), requestId: request.id };
      const reason = reasonOf(request);
      const done = await manifests.delete(
        actor,
        { team, artifact },
        digest,
        reason,
        () => new MethodNotAllowedError(UNSUPPORTED_DELETE, { code: 'UNSUPPORTED' }),
      );
      return {
        deleted: `${team}/${artifact}@${digest}`,
        tags: done.kind === 'manifest' ? done.tags : [],
        deleted_by: actor.principal.uid,
        reason: reason?.trim() ?? '',
      };
    },
  );

  app.get(
    '/teams/:team/artifacts/:artifact/deleted-tags',
    {
      preHandler: readGuard,
      schema: {
        tags: ['tags'],
        summary: 'Deleted tags of an artifact: who deleted them, when and why (newest first)',
        security: secured,
        params: ArtifactParams,
        response: { 200: z.array(DeletedTagSchema) },
      },
    },
    async (request) => (await manifests.deletedTags(request.params)).map(toDeletedTag),
  );
  for (const path of ['/teams/*', '/tags/*', '/v1/*']) app.delete(path, { schema: { hide: true } }, noDelete);
}
