import { z } from 'zod';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import { NotAllowedError, StupsError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { UidSchema } from '../users/contract.js';
import type { AccessGranting } from './access-granting.js';
import { AccessRequestBodySchema, AccessRequestQuerySchema, AccessRequestSchema } from './contract.js';

const bearer = [{ bearer: [] }];

/**
 * even's HTTP API (STUPS contract): request access, list requests, serve public keys to the
 * bastions. Every POST and DELETE is recorded in the audit log by the HTTP kernel, with the
 * request's id, host, user and outcome added here.
 */
export function registerEvenRoutes(
  app: HttpApp,
  deps: { granting: AccessGranting; verifier: TokenVerifier },
): void {
  const authenticated = requireAuth(deps.verifier);

  app.post(
    '/access-requests',
    {
      preHandler: authenticated,
      schema: {
        summary: 'Request SSH access to a bastion (granted at once to members of the owning team)',
        tags: ['access-requests'],
        security: bearer,
        body: AccessRequestBodySchema,
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const facts = {
        hostname: body.hostname,
        username: body.username ?? principalOf(request).uid,
        remote_host: body.remote_host ?? null,
        reason: body.reason,
      };
      request.auditDetails = facts;
      try {
        const { request: granted, message } = await deps.granting.request(principalOf(request), body);
        request.auditDetails = {
          ...facts,
          id: granted.id,
          request_status: granted.status,
          expires_at: granted.expires_at,
        };
        reply.type('text/plain; charset=utf-8');
        return message;
      } catch (error) {
        if (error instanceof StupsError) {
          request.auditDetails = {
            ...facts,
            request_status: error instanceof NotAllowedError ? 'DENIED' : 'FAILED',
            error: error.message,
          };
        }
        throw error;
      }
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
      schema: {
        summary: 'Revoke a granted access before it runs out',
        tags: ['access-requests'],
        security: bearer,
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: { 200: AccessRequestSchema },
      },
    },
    async (request) => {
      const revoked = await deps.granting.revoke(principalOf(request), request.params.id);
      request.auditDetails = {
        username: revoked.username,
        hostname: revoked.hostname,
        request_status: revoked.status,
        status_reason: revoked.status_reason,
      };
      return revoked;
    },
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
