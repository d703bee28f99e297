import type { FastifyRequest, RouteOptions } from 'fastify';
import { StupsError } from '../errors.js';
import type { HttpApp } from '../http/create-http-app.js';
import { addRouteHook } from '../http/route-hooks.js';
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
  // Hooks of the audited routes only, and callback style where nothing is awaited: the other
  // routes (every read) pay nothing, the audited ones no promise on their common path (issue 23).
  // Routes are seen as they are added, so this is called before the service adds its routes.
  const audited = (route: RouteOptions) => {
    const event = route.config?.auditEvent;
    return event !== undefined && known.has(event);
  };
  addRouteHook(app, 'onError', audited, (request, _reply, error, done) => {
    errors.set(request, error);
    done();
  });
  addRouteHook(app, 'onSend', audited, (request, reply, payload, done) => {
    if (!REFUSED_STATUSES.has(reply.statusCode)) {
      done(null, payload);
      return;
    }
    const error = errors.get(request);
    if (isAudited(error)) {
      done(null, payload);
      return;
    }
    const params = (request.params ?? {}) as Record<string, unknown>;
    audit
      .standalone({
        event: request.routeOptions.config.auditEvent as E,
        actor: request.principal ?? { uid: 'anonymous' },
        targetId: Object.values(params).map(String).join('/') || undefined,
        outcome: 'refused',
        details: {
          status: reply.statusCode,
          ...(error instanceof StupsError ? { code: error.code, message: error.message } : {}),
        },
        requestId: request.id,
      })
      .then(
        () => done(null, payload),
        (failure: unknown) => done(failure as Error),
      );
  });
}
