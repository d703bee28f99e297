import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addRouteHook } from '../platform/http/route-hooks.js';

/**
 * Who may read an endpoint's answers from another origin: `public` documents (discovery, JWKS)
 * carry nothing secret, so `*` in the allow-list opens them to everyone; `listed` endpoints
 * (token, introspection, revocation, userinfo) answer only origins named exactly.
 */
export type CorsAudience = 'public' | 'listed';

export interface CorsRoute {
  url: string;
  methods: readonly string[];
  audience: CorsAudience;
}

/** Request headers browser clients of these endpoints send (Basic client auth, Bearer, forms). */
const ALLOWED_HEADERS = 'authorization, content-type';
/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * CORS (Fetch standard) for the token service's endpoints that browser apps of other origins use.
 * No credentials mode: these endpoints take no cookies, only explicit headers and form fields.
 * Headers are set before the handler runs, so error answers are readable by the caller too.
 */
export function registerCors(
  app: FastifyInstance,
  allowedOrigins: readonly string[],
  routes: readonly CorsRoute[],
): void {
  const listed = new Set(allowedOrigins.filter((origin) => origin !== '*'));
  const anyOriginForPublic = allowedOrigins.includes('*');
  const byUrl = new Map(routes.map((route) => [route.url, route]));

  const allowOrigin = (route: CorsRoute, origin: string | undefined): string | undefined => {
    if (origin === undefined) return undefined;
    if (route.audience === 'public' && anyOriginForPublic) return '*';
    return listed.has(origin) ? origin : undefined;
  };

  const setCorsHeaders = (request: FastifyRequest, reply: FastifyReply): void => {
    const route = byUrl.get(request.routeOptions.url ?? '');
    if (!route || (request.method !== 'OPTIONS' && !route.methods.includes(request.method))) return;
    // The answer differs by Origin unless every origin gets the same `*`.
    if (!(route.audience === 'public' && anyOriginForPublic)) reply.header('vary', 'origin');
    const allowed = allowOrigin(route, request.headers.origin);
    if (allowed === undefined) return;
    reply.header('access-control-allow-origin', allowed);
    if (request.method === 'OPTIONS') {
      reply.headers({
        'access-control-allow-methods': route.methods.join(', '),
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': PREFLIGHT_MAX_AGE,
      });
    } else {
      // A refused client authentication is answered with a challenge the caller may need to see.
      reply.header('access-control-expose-headers', 'www-authenticate');
    }
  };
  // Callback style, not async: a promise and a microtask turn less on every request; and only on
  // the CORS routes (and their preflights), not on every route of the token service (issue 23).
  addRouteHook(
    app,
    'onRequest',
    (route) => byUrl.has(route.url),
    (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      setCorsHeaders(request, reply);
      done();
    },
  );

  // Preflights: 204 either way; without the allow headers the browser refuses the real request.
  for (const route of routes) {
    app.options(route.url, { schema: { hide: true } }, async (_request, reply) => {
      reply.status(204).send();
    });
  }
}
