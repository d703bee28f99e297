import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Audit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import {
  AccountIdSchema,
  InstanceLogSchema,
  NewViolationSchema,
  ViolationCountSchema,
  ViolationPageSchema,
  ViolationQuerySchema,
  ViolationSchema,
  ViolationTypeSchema,
} from './contract.js';
import type { FullstopEvent } from './events.js';
import { TrendDaySchema, TrendQuerySchema, type ViolationTrend } from './trend.js';
import type { ViolationService } from './violations.js';

const IdParams = z.object({ id: z.string().min(1).max(40) });
/** A resolution comment is prose; the limit keeps a mistaken upload out. */
const MAX_COMMENT_BYTES = 64 * 1024;

/** fullstop.'s HTTP API, wire-compatible with the STUPS clients. */
export function registerFullstopRoutes(
  app: HttpApp,
  deps: {
    violations: ViolationService;
    trend: ViolationTrend;
    verifier: TokenVerifier;
    audit: Audit<FullstopEvent>;
  },
): void {
  const { violations } = deps;
  auditRefusals(app, deps.audit);
  const authenticated = requireAuth(deps.verifier);
  const common = { tags: ['violations'], security: [{ bearer: [] }] };

  app.get(
    '/api/violations',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Violations, one page at a time',
        description:
          'Filters as in STUPS: `accounts` (comma list or repeated), `from`/`to` (ISO 8601, microseconds ' +
          'allowed), `last-violation` (ids after it), `checked` (default false: not yet commented), ' +
          '`severity`, `priority`, `audit-relevant`, `type`, `application-ids`, `application-version-ids`, ' +
          "`instance-ids` (an instance's violations, those of CloudTrail rules too, which name no application), " +
          '`whitelisted`; `page` (from 0), `size` (default 10), `sort` (`id,ASC`). Unknown parameters are ignored.',
        querystring: ViolationQuerySchema,
        response: { 200: ViolationPageSchema },
      },
    },
    async (request) => violations.list(request.query),
  );

  app.get(
    '/api/violations/:id',
    {
      preHandler: authenticated,
      schema: { ...common, summary: 'One violation', params: IdParams, response: { 200: ViolationSchema } },
    },
    async (request) => violations.get(request.params.id),
  );

  app.post(
    '/api/violations',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.violation.create'),
      schema: {
        ...common,
        summary: 'Report a violation (scope fullstop.violation.write)',
        description:
          'Stored once per account, region, event id, instance and type: reporting it again answers ' +
          'the stored violation with 200 instead of 201.',
        body: NewViolationSchema,
        response: { 200: ViolationSchema, 201: ViolationSchema },
      },
    },
    async (request, reply) => {
      const result = await violations.create(principalOf(request), request.body, request.id);
      if (result.created) reply.status(201).header('location', `/api/violations/${result.violation.id}`);
      return result.violation;
    },
  );

  // The comment is the raw body, whatever content type the client declares (STUPS clients
  // send text/plain, some application/json with a bare string): an own scope reads any as text.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: MAX_COMMENT_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      '/api/violations/:id/resolution',
      {
        preHandler: authenticated,
        config: deps.audit.route('fullstop.violation.resolve'),
        schema: {
          ...common,
          summary: 'Resolve a violation: the body (raw text) becomes its comment',
          description: 'Only those who may act for the team owning the violation’s account.',
          params: IdParams,
          response: { 200: ViolationSchema },
        },
      },
      async (request) => {
        const body = typeof request.body === 'string' ? request.body : '';
        return violations.resolve(principalOf(request), request.params.id, body, request.id);
      },
    );
  });

  app.get(
    '/api/violation-types',
    {
      preHandler: authenticated,
      schema: { ...common, summary: 'Every violation type', response: { 200: z.array(ViolationTypeSchema) } },
    },
    async () => violations.types(),
  );

  app.get(
    '/api/violation-count',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Violations counted by account and type (same filters as /api/violations)',
        querystring: ViolationQuerySchema,
        response: { 200: ViolationCountSchema },
      },
    },
    async (request) => violations.countByAccount(request.query),
  );

  app.get(
    '/api/violation-count/:account',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Violations of one account counted by application, version and type',
        params: z.object({ account: AccountIdSchema }),
        querystring: ViolationQuerySchema,
        response: {
          200: z.array(
            z.object({
              application: z.string().nullable(),
              version: z.string().nullable(),
              type: z.string(),
              quantity: z.number().int(),
            }),
          ),
        },
      },
    },
    async (request) => violations.countByApplication(request.params.account, request.query),
  );

  app.get(
    '/api/violation-trend',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Violations found, resolved and open per day (UTC), oldest day first',
        description:
          '`team`: the team whose accounts count (default: the accounts of every team of the caller); ' +
          '`days` (1–366, default 30) ending today. `open` is open at the end of the day; resolved means ' +
          'resolved with a comment.',
        querystring: TrendQuerySchema,
        response: { 200: z.array(TrendDaySchema) },
      },
    },
    async (request) => deps.trend.trend(principalOf(request), request.query),
  );

  app.post(
    '/api/instance-logs',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.instance_log.create'),
      schema: {
        tags: ['instance-logs'],
        security: [{ bearer: [] }],
        summary: 'A Taupage instance log (USER_DATA is checked by the user data rules)',
        body: InstanceLogSchema,
        response: { 201: z.object({ violations: z.number().int() }) },
      },
    },
    async (request, reply) => {
      const result = await violations.receiveInstanceLog(principalOf(request), request.body, request.id);
      reply.status(201);
      return result;
    },
  );
}
