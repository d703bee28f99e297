import { z } from 'zod';
import type { Audit } from '../../platform/audit/create-audit.js';
import { principalOf, requireAuth } from '../../platform/auth/http-auth.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import { MethodNotAllowedError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { FullstopEvent } from '../events.js';
import {
  DryRunResultSchema,
  DryRunSchema,
  ExpireSchema,
  NewRiskAcceptanceSchema,
  RiskAcceptanceQuerySchema,
  RiskAcceptanceSchema,
} from './contract.js';
import type { RiskAcceptanceService } from './service.js';

const IdParams = z.object({ id: z.string().min(1).max(40) });

/** `/api/risk-acceptances`: create, read, end early, and try criteria out (dry run). */
export function registerRiskAcceptanceRoutes(
  app: HttpApp,
  deps: { acceptances: RiskAcceptanceService; verifier: TokenVerifier; audit: Audit<FullstopEvent> },
): void {
  const { acceptances } = deps;
  const authenticated = requireAuth(deps.verifier);
  const common = { tags: ['risk-acceptances'], security: [{ bearer: [] }] };

  app.post(
    '/api/risk-acceptances',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.risk_acceptance.create'),
      schema: {
        ...common,
        summary: 'Accept the risk of the violations matching criteria, until a date',
        description:
          'Members of `team` (or administrators) only; a member may name only the team’s accounts. ' +
          'Covers the matching open violations at once and every matching one found later, until ' +
          '`expires` (at most `fullstop.riskAcceptances.maxLifetimeDays` ahead). Criteria: `accounts`, ' +
          '`regions`, `types`, `image_name` (regular expression), `image_owner`, `application_id`, ' +
          '`application_version`, `meta_info` (JSONPath filter); all given must match.',
        body: NewRiskAcceptanceSchema,
        response: { 201: RiskAcceptanceSchema },
      },
    },
    async (request, reply) => {
      const created = await acceptances.create(principalOf(request), request.body, request.id);
      reply.status(201).header('location', `/api/risk-acceptances/${created.id}`);
      return created;
    },
  );

  app.post(
    '/api/risk-acceptances/dry-run',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'How many open violations an acceptance with these criteria would cover (nothing is stored)',
        body: DryRunSchema,
        response: { 200: DryRunResultSchema },
      },
    },
    async (request) => acceptances.dryRun(principalOf(request), request.body),
  );

  app.get(
    '/api/risk-acceptances',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Risk acceptances, newest first (`status`: active (default), expired or all)',
        querystring: RiskAcceptanceQuerySchema,
        response: { 200: z.array(RiskAcceptanceSchema) },
      },
    },
    async (request) => acceptances.list(request.query),
  );

  app.get(
    '/api/risk-acceptances/:id',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'One risk acceptance',
        params: IdParams,
        response: { 200: RiskAcceptanceSchema },
      },
    },
    async (request) => acceptances.get(request.params.id),
  );

  app.post(
    '/api/risk-acceptances/:id/expire',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.risk_acceptance.expire'),
      schema: {
        ...common,
        summary: 'End a risk acceptance now; what it covered is open again',
        params: IdParams,
        body: ExpireSchema,
        response: { 200: RiskAcceptanceSchema },
      },
    },
    async (request) =>
      acceptances.expire(principalOf(request), request.params.id, request.body?.reason, request.id),
  );

  // An acceptance is a record of a decision: it is never edited, only ended (and a new one made).
  const immutable = async (): Promise<never> => {
    throw new MethodNotAllowedError(
      'risk acceptances are immutable: end one (POST …/expire) and create a new one instead',
      { code: 'ACCEPTANCE_IMMUTABLE' },
    );
  };
  app.route({
    method: ['PUT', 'PATCH', 'DELETE'],
    url: '/api/risk-acceptances/:id',
    schema: { hide: true },
    onSend: async (_request, reply, payload) => {
      reply.header('allow', 'GET');
      return payload;
    },
    handler: immutable,
  });
}
