import type { FastifyInstance, RouteOptions } from 'fastify';

/** The lifecycle hooks a route's own options may carry. */
type RouteHookName = 'onRequest' | 'preHandler' | 'onSend' | 'onError';
/** One hook of that name (route options take one or an array). */
type RouteHook<Name extends RouteHookName> =
  NonNullable<RouteOptions[Name]> extends infer H ? (H extends readonly unknown[] ? H[number] : H) : never;

/**
 * Adds `hook` to the routes of `app`'s scope (and its child scopes) that `applies` selects, as a
 * route-level hook, instead of `app.addHook`, which runs it on every request of the scope: a hook
 * that concerns a few routes then costs the others nothing, not even a call that returns at once
 * (issue 23). Routes added before this call are not seen, so call it before adding the routes.
 * Route-level hooks run after the scope's hooks of the same name, in the order they were added.
 */
export function addRouteHook<Name extends RouteHookName>(
  app: FastifyInstance,
  name: Name,
  applies: (route: RouteOptions) => boolean,
  hook: RouteHook<Name>,
): void {
  app.addHook('onRoute', (route) => {
    if (!applies(route)) return;
    const given: unknown = route[name];
    const hooks = given === undefined ? [] : Array.isArray(given) ? [...(given as unknown[])] : [given];
    hooks.push(hook);
    (route as Record<Name, unknown>)[name] = hooks;
  });
}
