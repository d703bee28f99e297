import { z } from 'zod';
import type { Audit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import {
  MintAppIdSchema,
  MintAppListQuerySchema,
  MintAppPatchSchema,
  MintAppPutSchema,
  MintAppSchema,
  MintAppSummarySchema,
  MintRenewalQuerySchema,
} from './contract.js';
import type { MintEvent } from './events.js';
import type { MintRegistry } from './mint-registry.js';

// Reads accept any id-shaped string: an id that cannot exist is simply not found.
const AnyIdParams = z.object({ app: z.string().min(1).max(500) });

/** mint storage's HTTP API: `/apps`, `/apps/{app}`, `/apps/{app}/renewal`. */
export function registerMintRoutes(
  app: HttpApp,
  deps: { registry: MintRegistry; verifier: TokenVerifier; audit: Audit<MintEvent> },
): void {
  const { registry } = deps;
  auditRefusals(app, deps.audit);
  const authenticated = requireAuth(deps.verifier);
  const common = { tags: ['apps'], security: [{ bearer: [] }] };

  app.get(
    '/apps',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'Applications with a mint configuration and their rotation status',
        description: 'Filters: applications with a scope of `resource_type_id` (and `scope_id`).',
        querystring: MintAppListQuerySchema,
        response: { 200: z.array(MintAppSummarySchema) },
      },
    },
    async (request) => registry.list(request.query),
  );

  app.get(
    '/apps/:app',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: "One application's mint configuration (never its credentials)",
        params: AnyIdParams,
        response: { 200: MintAppSchema },
      },
    },
    async (request) => registry.get(request.params.app),
  );

  app.put(
    '/apps/:app',
    {
      preHandler: authenticated,
      config: deps.audit.route('mint.app.put'),
      schema: {
        ...common,
        summary: 'Create or replace the mint configuration of an application',
        description:
          'The application must exist in Kio and every scope in essentials (400 naming the missing ' +
          'one); redirect_url must be https. Members of the application’s team and administrators.',
        params: z.object({ app: MintAppIdSchema }),
        body: MintAppPutSchema,
        response: { 200: MintAppSchema, 201: MintAppSchema },
      },
    },
    async (request, reply) => {
      const result = await registry.put(principalOf(request), request.params.app, request.body, request.id);
      if (result.created) reply.status(201).header('location', `/apps/${result.app.id}`);
      return result.app;
    },
  );

  app.delete(
    '/apps/:app',
    {
      preHandler: authenticated,
      config: deps.audit.route('mint.app.delete'),
      schema: {
        ...common,
        summary: 'Delete the mint configuration; the service user and the client go with it',
        params: AnyIdParams,
      },
    },
    async (request, reply) => {
      await registry.delete(principalOf(request), request.params.app, request.id);
      reply.status(204);
    },
  );

  app.post(
    '/apps/:app/renewal',
    {
      preHandler: authenticated,
      config: deps.audit.route('mint.app.renew'),
      schema: {
        ...common,
        summary: 'Reset the error counter and rotate the credentials on the next worker run',
        description:
          'As in STUPS, both the password and the client secret unless `credentials` names one. A ' +
          'rotation waits until the previous generation of that credential has been retired.',
        params: AnyIdParams,
        querystring: MintRenewalQuerySchema,
        response: { 200: MintAppSchema },
      },
    },
    async (request) =>
      registry.renew(principalOf(request), request.params.app, request.id, request.query.credentials),
  );

  app.patch(
    '/apps/:app',
    {
      preHandler: authenticated,
      config: deps.audit.route('mint.app.patch'),
      schema: {
        ...common,
        summary: "The worker's status update (administrators only)",
        params: AnyIdParams,
        body: MintAppPatchSchema,
        response: { 200: MintAppSchema },
      },
    },
    async (request) => registry.patch(principalOf(request), request.params.app, request.body, request.id),
  );
}
