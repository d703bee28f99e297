import { z } from 'zod';
import type { Audit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { UidSchema } from '../users/contract.js';
import type { AccessGranting } from './access-granting.js';
import { AccessRequestBodySchema, AccessRequestQuerySchema, AccessRequestSchema } from './contract.js';
import type { EvenEvent } from './events.js';

const bearer = [{ bearer: [] }];

/**
 * even's HTTP API (STUPS contract): request access, list requests, serve public keys to the
 * bastions. The domain audits every change in its transaction; refusals it did not record
 * (no token, not allowed to revoke, not granted) are audited by the refusal hook.
 */
export function registerEvenRoutes(
  app: HttpApp,
  deps: { granting: AccessGranting; verifier: TokenVerifier; audit: Audit<EvenEvent> },
): void {
  const authenticated = requireAuth(deps.verifier);
  auditRefusals(app, deps.audit);

  app.post(
    '/access-requests',
    {
      preHandler: authenticated,
      config: deps.audit.route('even.access_request.create'),
      schema: {
        summary: 'Request SSH access to a bastion (granted at once to members of the owning team)',
        tags: ['access-requests'],
        security: bearer,
        body: AccessRequestBodySchema,
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const { message } = await deps.granting.request(principalOf(request), request.body, request.id);
      reply.type('text/plain; charset=utf-8');
      return message;
    },
  );

  app.get(
    '/access-requests',
    {
      preHandler: authenticated,
      schema: {
        summary: 'Access requests, newest first',
        tags: ['access-requests'],
        security: bearer,
        querystring: AccessRequestQuerySchema,
        response: { 200: z.array(AccessRequestSchema) },
      },
    },
    async (request) => deps.granting.list(request.query),
  );

  app.delete(
    '/access-requests/:id',
    {
      preHandler: authenticated,
      config: deps.audit.route('even.access_request.revoke'),
      schema: {
        summary: 'Revoke a granted access before it runs out',
        tags: ['access-requests'],
        security: bearer,
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: { 200: AccessRequestSchema },
      },
    },
    async (request) => deps.granting.revoke(principalOf(request), request.params.id, request.id),
  );

  app.get(
    '/public-keys/:uid/sshkey.pub',
    {
      schema: {
        summary: "A user's SSH public keys as OpenSSH text (no authentication; bastions fetch it)",
        tags: ['public-keys'],
        params: z.object({ uid: UidSchema }),
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const keys = await deps.granting.publicKeys(request.params.uid);
      reply.type('text/plain; charset=utf-8');
      return keys;
    },
  );
}
