import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Audit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import {
  AccountIdSchema,
  AccountListQuerySchema,
  AssignBodySchema,
  IncidentQuerySchema,
  PurgeQuerySchema,
  PurgeResultSchema,
  SandboxAccountViewSchema,
  SandboxEventSchema,
  SandboxStatusSchema,
  TagImportQuerySchema,
  TagImportResultSchema,
} from './contract.js';
import type { SandboxAuditEvent } from './events.js';
import type { SandboxService } from './sandbox-service.js';

const AccountParams = z.object({ id: AccountIdSchema });

/** The sandbox HTTP API: accounts, their events, incidents, and the three writes. */
export function registerSandboxRoutes(
  app: HttpApp,
  deps: { service: SandboxService; verifier: TokenVerifier; audit: Audit<SandboxAuditEvent> },
): void {
  const { service } = deps;
  auditRefusals(app, deps.audit);
  const authenticated = requireAuth(deps.verifier);
  const common = { tags: ['accounts'], security: [{ bearer: [] }] };

  app.get(
    '/status',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Whether this installation manages accounts (off without AWS)',
        response: { 200: SandboxStatusSchema },
      },
    },
    async () => service.status(),
  );

  app.get(
    '/accounts',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Personal accounts, filtered by state, organizational unit (id or name) and holder',
        querystring: AccountListQuerySchema,
        response: { 200: z.array(SandboxAccountViewSchema) },
      },
    },
    async (request) => service.list(request.query),
  );

  app.get(
    '/accounts/:id',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'One account: state, holder, budget, month-to-date spend, last purge',
        params: AccountParams,
        response: { 200: SandboxAccountViewSchema },
      },
    },
    async (request) => service.get(request.params.id),
  );

  app.get(
    '/accounts/:id/events',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: "An account's lifecycle events and exceptions, newest first",
        params: AccountParams,
        response: { 200: z.array(SandboxEventSchema) },
      },
    },
    async (request) => service.events(request.params.id),
  );

  app.get(
    '/incidents',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        tags: ['incidents'],
        summary: 'Exceptions of every account (or of one), newest first',
        querystring: IncidentQuerySchema,
        response: { 200: z.array(SandboxEventSchema) },
      },
    },
    async (request) => service.incidents(request.query.account_id),
  );

  app.post(
    '/accounts/:id/assign',
    {
      preHandler: authenticated,
      config: deps.audit.route('sandbox.account.assign'),
      schema: {
        ...common,
        summary: 'Give a vanilla or released account to a platform user',
        description:
          'Administrators assign to anyone; an employee may take a free account for themselves while ' +
          'holding none. 400 when the holder is not an enabled platform user, 409 from other states.',
        params: AccountParams,
        body: AssignBodySchema,
        response: { 200: SandboxAccountViewSchema },
      },
    },
    async (request) =>
      service.assign(principalOf(request), request.params.id, request.body.holder, request.id),
  );

  app.post(
    '/accounts/:id/release',
    {
      preHandler: authenticated,
      config: deps.audit.route('sandbox.account.release'),
      schema: {
        ...common,
        summary: 'Give an assigned account back (its holder or an administrator)',
        params: AccountParams,
        response: { 200: SandboxAccountViewSchema },
      },
    },
    async (request) => service.release(principalOf(request), request.params.id, request.id),
  );

  app.post(
    '/accounts/:id/purge',
    {
      preHandler: authenticated,
      config: deps.audit.route('sandbox.account.purge'),
      schema: {
        ...common,
        summary: 'List (dry run, the default) or delete every resource of an account, in dependency order',
        description:
          'A dry run (holder or administrator) changes nothing. dry_run=false: administrators, expired ' +
          'accounts, sandbox.allowForcePurge; a purge that cannot finish is 409 PURGE_INCOMPLETE and an incident.',
        params: AccountParams,
        querystring: PurgeQuerySchema,
        response: { 200: PurgeResultSchema },
      },
    },
    async (request) =>
      service.purge(principalOf(request), request.params.id, request.query.dry_run, request.id),
  );

  app.get(
    '/tags',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        tags: ['tags'],
        summary: 'Every account’s tags as CSV: the column account, then one column per tag key',
        produces: ['text/csv'],
      },
    },
    async (_request, reply) => {
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="tags.csv"');
      return service.exportTags();
    },
  );

  // The file is the raw body (text/csv, or whatever a client declares): an own scope reads it as text.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_TAG_FILE_BYTES }, (_r, body, done) =>
      done(null, body),
    );
    scope.post(
      '/tags',
      {
        preHandler: authenticated,
        config: deps.audit.route('sandbox.tags.import'),
        schema: {
          ...common,
          tags: ['tags'],
          summary: 'Import a CSV of account tags (administrators); dry_run=true reports and writes nothing',
          description:
            'Empty cells leave a tag as it is; the lifecycle tags (account-state, account-holder, ' +
            'account-state-since:*) are refused. A file with any bad row is 400 TAGS_INVALID listing ' +
            'every problem with its line in `errors`, and nothing is written.',
          querystring: TagImportQuerySchema,
          response: { 200: TagImportResultSchema },
        },
      },
      async (request) =>
        service.importTags(
          principalOf(request),
          typeof request.body === 'string' ? request.body : '',
          request.query.dry_run,
          request.id,
        ),
    );
  });
}

/** A tag file of thousands of accounts is well under this. */
const MAX_TAG_FILE_BYTES = 2 * 1024 * 1024;
