import type { FastifyInstance, RouteOptions } from 'fastify';

/** The lifecycle hooks a route's own options may carry. */
type RouteHookName = 'onRequest' | 'preHandler' | 'onSend' | 'onError';
/** One hook of that name (route options take one or an array). */
type RouteHook<Name extends RouteHookName> =
  NonNullable<RouteOptions[Name]> extends infer H ? (H extends readonly unknown[] ? H[number] : H) : never;

/** Hooks added by `addRouteHook`, told apart from a route's own. */
const added = new WeakSet<object>();

/**
 * Adds `hook` to the routes of `app`'s scope (and its child scopes) that `applies` selects, as a
 * route-level hook, instead of `app.addHook`, which runs it on every request of the scope: a hook
 * that concerns a few routes then costs the others nothing, not even a call that returns at once
 * (issue 23). Routes added before this call are not seen, so call it before adding the routes.
 * It runs where a hook of the scope would: after the scope's hooks of that name and before the
 * route's own (and after hooks added here earlier).
 */
export function addRouteHook<Name extends RouteHookName>(
  app: FastifyInstance,
  name: Name,
  applies: (route: RouteOptions) => boolean,
  hook: RouteHook<Name>,
): void {
  added.add(hook as object);
  app.addHook('onRoute', (route) => {
    if (!applies(route)) return;
    const given: unknown = route[name];
    const hooks: unknown[] =
      given === undefined ? [] : Array.isArray(given) ? [...(given as unknown[])] : [given];
    let at = 0;
    while (at < hooks.length && added.has(hooks[at] as object)) at++;
    hooks.splice(at, 0, hook);
    (route as Record<Name, unknown>)[name] = hooks;
  });
}
