import { z } from 'zod';
import type { Audit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import { NotFoundError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ApplicationRegistry } from './application-registry.js';
import type { KioEvent } from './events.js';
import {
  ApplicationChangeSchema,
  ApplicationDetailSchema,
  ApplicationHistoryQuerySchema,
  ApplicationIdSchema,
  ApplicationListQuerySchema,
  ApplicationPutSchema,
  ApplicationSchema,
  ApplicationSearchHitSchema,
  DeprecatedApprovalPostSchema,
  DeprecatedVersionPutSchema,
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
} from './contract.js';

// Reads accept any id-shaped string: an id that cannot exist is simply not found.
const AnyIdParams = z.object({ id: z.string().min(1).max(500) });
const VersionParams = AnyIdParams.extend({ version: z.string().min(1).max(500) });

/** Kio's HTTP API: `/apps`, `/apps/{id}`, its history and the deprecated version routes. */
export function registerKioRoutes(
  app: HttpApp,
  deps: { registry: ApplicationRegistry; verifier: TokenVerifier; audit: Audit<KioEvent> },
): void {
  const { registry } = deps;
  auditRefusals(app, deps.audit);
  const authenticated = requireAuth(deps.verifier);
  const common = { tags: ['applications'], security: [{ bearer: [] }] };

  app.get(
    '/apps',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'List applications, or search them (with `search`, best match first)',
        description:
          'Without `limit` a listing returns every match. A search ranks at most the first 1,000 ' +
          'matches and answers the best 50 unless `limit` says otherwise.',
        querystring: ApplicationListQuerySchema,
        response: { 200: z.array(z.union([ApplicationSearchHitSchema, ApplicationSchema])) },
      },
    },
    async (request) => registry.list(request.query),
  );

  app.get(
    '/apps/:id',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'One application',
        params: AnyIdParams,
        response: { 200: ApplicationDetailSchema },
      },
    },
    async (request) => registry.get(request.params.id),
  );

  app.put(
    '/apps/:id',
    {
      preHandler: authenticated,
      config: deps.audit.route('kio.application.put'),
      schema: {
        ...common,
        summary: 'Create an application or merge fields into it',
        description:
          'Requires team_id, active and name on creation. Fields sent as null or left out keep ' +
          'their value; an empty string clears an optional text field.',
        params: z.object({ id: ApplicationIdSchema }),
        body: ApplicationPutSchema,
        response: { 200: ApplicationDetailSchema, 201: ApplicationDetailSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const result = await registry.put(
        { uid: principal.uid, realm: principal.realm, principal },
        request.params.id,
        request.body,
        request.id,
      );
      if (result.created) reply.status(201).header('location', `/apps/${result.application.id}`);
      return result.application;
    },
  );

  app.get(
    '/apps/:id/history',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Change history of an application, newest first, one page at a time',
        description:
          `Pages of \`limit\` entries (default ${HISTORY_DEFAULT_LIMIT}, at most ${HISTORY_MAX_LIMIT}). ` +
          'The next page is asked for with `before` set to the `id` of the last entry received; ' +
          'while there is one, the answer carries `Link: <…>; rel="next"` with that URL. A cursor ' +
          'rather than an offset, because history grows at the front: with offsets, a change made ' +
          'while a client pages would shift every later page by one and repeat an entry, and ' +
          'deep offsets cost a scan of every skipped row.',
        params: AnyIdParams,
        querystring: ApplicationHistoryQuerySchema,
        response: { 200: z.array(ApplicationChangeSchema) },
      },
    },
    async (request, reply) => {
      const { limit, before } = request.query;
      const page = await registry.history(request.params.id, { limit, before });
      if (page.next !== undefined) {
        const next = `/apps/${encodeURIComponent(request.params.id)}/history?limit=${limit}&before=${page.next}`;
        reply.header('link', `<${next}>; rel="next"`);
      }
      return page.changes;
    },
  );

  /*
   * Deprecated: Kio no longer keeps versions and approvals. Old deploy scripts still register
   * versions and approve them, so those writes are accepted and ignored (200, nothing stored),
   * and the lists are empty. As in the original Kio they need a token, the application must
   * exist (404 otherwise: a typo in a script shows), and a write needs the right to write the
   * application, so that an ignored call never answers better than a real one would.
   */
  const deprecated = { ...common, deprecated: true };
  const ignoredNote =
    'Deprecated: Kio no longer keeps versions and approvals. Accepted for old deploy scripts and ' +
    'ignored: answers 200 with an empty body and stores nothing. Needs the right to write the ' +
    'application (as PUT /apps/{id}); 404 for an unknown application.';
  app.get(
    '/apps/:id/versions',
    {
      preHandler: authenticated,
      schema: {
        ...deprecated,
        summary: 'Versions of an application: always empty (deprecated)',
        params: AnyIdParams,
        response: { 200: z.array(z.never()) },
      },
    },
    async (request) => {
      await registry.get(request.params.id);
      return [];
    },
  );
  app.get(
    '/apps/:id/approvals',
    {
      preHandler: authenticated,
      schema: {
        ...deprecated,
        summary: 'Approvals of an application: always empty (deprecated)',
        params: AnyIdParams,
        response: { 200: z.array(z.never()) },
      },
    },
    async (request) => {
      await registry.get(request.params.id);
      return [];
    },
  );
  app.get(
    '/apps/:id/versions/:version',
    {
      preHandler: authenticated,
      schema: {
        ...deprecated,
        summary: 'One version of an application: never found (deprecated)',
        params: VersionParams,
      },
    },
    async (request) => {
      await registry.get(request.params.id);
      throw new NotFoundError(`version ${request.params.version} of ${request.params.id} does not exist`, {
        code: 'VERSION_NOT_FOUND',
      });
    },
  );
  app.put(
    '/apps/:id/versions/:version',
    {
      preHandler: authenticated,
      config: deps.audit.route('kio.version.put'),
      schema: {
        ...deprecated,
        summary: 'Register a version: accepted and ignored (deprecated)',
        description: ignoredNote,
        params: VersionParams,
        body: DeprecatedVersionPutSchema,
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id, version } = request.params;
      await registry.ignoreDeprecatedWrite(principal, id, version, 'kio.version.put', request.id);
    },
  );
  app.get(
    '/apps/:id/versions/:version/approvals',
    {
      preHandler: authenticated,
      schema: {
        ...deprecated,
        summary: 'Approvals of a version: always empty (deprecated)',
        params: VersionParams,
        response: { 200: z.array(z.never()) },
      },
    },
    async (request) => {
      await registry.get(request.params.id);
      return [];
    },
  );
  app.post(
    '/apps/:id/versions/:version/approvals',
    {
      preHandler: authenticated,
      config: deps.audit.route('kio.version.approve'),
      schema: {
        ...deprecated,
        summary: 'Approve a version: accepted and ignored (deprecated)',
        description: ignoredNote,
        params: VersionParams,
        body: DeprecatedApprovalPostSchema,
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id, version } = request.params;
      await registry.ignoreDeprecatedWrite(principal, id, version, 'kio.version.approve', request.id);
    },
  );
}
