import type { FastifyRequest } from 'fastify';
import { authenticate } from '../platform/auth/http-auth.js';
import type { ServiceContext } from '../platform/service-context.js';
import { allowsAnonymousPull, type PierOneConfig } from './config.js';

/**
 * The pre-handlers of Pier One's STUPS API routes. Reading needs any valid token, like pulling;
 * a team open to anonymous pulls needs none. Writing always needs a token: what it may do is
 * decided by the route (team membership or an admin scope) through the permission rule.
 */
export function apiGuards(ctx: ServiceContext, config: PierOneConfig) {
  return {
    readGuard: async (request: FastifyRequest): Promise<void> => {
      const team = (request.params as { team?: string } | undefined)?.team;
      if (!request.headers.authorization && allowsAnonymousPull(config, team)) return;
      request.principal = await authenticate(ctx.verifier, request);
    },
    writeGuard: async (request: FastifyRequest): Promise<void> => {
      request.principal = await authenticate(ctx.verifier, request);
    },
  };
}
