import type { FastifyRequest } from 'fastify';
import { StupsError } from '../errors.js';
import type { HttpApp } from '../http/create-http-app.js';
import { type Audit, isAudited } from './create-audit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit event of this route; a refusal (401/403/409) of it is recorded under this name. */
    auditEvent?: string;
  }
}

/** The answers that mean "not allowed" or "not like this": someone tried a write and was refused. */
const REFUSED_STATUSES = new Set([401, 403, 409]);

/**
 * Records every refused write of the routes that name an `auditEvent` in their config
 * (`config: audit.route('kio.application.put')`). Successful writes are audited by the
 * domain, inside their transaction; a refusal has no transaction, so it is written here, once,
 * for every reason it can happen: no token (401), the policy (403), a conflict (409).
 */
export function auditRefusals<E extends string>(app: HttpApp, audit: Audit<E>): void {
  const errors = new WeakMap<FastifyRequest, unknown>();
  const known = new Set<string>(audit.events);
  app.addHook('onError', async (request, _reply, error) => {
    errors.set(request, error);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!REFUSED_STATUSES.has(reply.statusCode)) return payload;
    const event = request.routeOptions.config.auditEvent;
    if (event === undefined || !known.has(event)) return payload;
    const error = errors.get(request);
    if (isAudited(error)) return payload;
    const params = (request.params ?? {}) as Record<string, unknown>;
    await audit.standalone({
      event: event as E,
      actor: request.principal ?? { uid: 'anonymous' },
      targetId: Object.values(params).map(String).join('/') || undefined,
      outcome: 'refused',
      details: {
        status: reply.statusCode,
        ...(error instanceof StupsError ? { code: error.code, message: error.message } : {}),
      },
      requestId: request.id,
    });
    return payload;
  });
}
