import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { NotAllowedError, NotAuthenticatedError } from '../errors.js';
import { tokenFromAuthorization } from './bearer.js';
import type { Principal, Realm } from './principal.js';
import type { TokenVerifier } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireAuth`; absent on anonymous routes. */
    principal?: Principal;
  }
}

export interface AuthRequirement {
  /** Only tokens of this realm. */
  realm?: Realm;
  /** Every one of these scopes. */
  scopes?: readonly string[];
}

/** Who may administer the platform: listed employees, and services holding the admin scope. */
export interface AdminPolicy {
  adminUids: ReadonlySet<string>;
  adminScope: string;
}

export const ADMIN_SCOPE = 'stups.admin';

export function isAdmin(principal: Principal, policy: AdminPolicy): boolean {
  if (principal.realm === 'employees') return policy.adminUids.has(principal.uid);
  return principal.scopes.has(policy.adminScope);
}

/** Verifies the request's token and returns who is calling, or throws a 401. */
export async function authenticate(verifier: TokenVerifier, request: FastifyRequest): Promise<Principal> {
  const token = tokenFromAuthorization(request.headers.authorization);
  if (!token) throw new NotAuthenticatedError('an access token is required (Authorization: Bearer <token>)');
  return verifier.verify(token);
}

/** Checks realm and scopes of an authenticated principal; throws a 403 naming what is missing. */
export function checkRequirement(principal: Principal, requirement: AuthRequirement): void {
  if (requirement.realm && principal.realm !== requirement.realm) {
    throw new NotAllowedError(`only tokens of the /${requirement.realm} realm may do this`, {
      code: 'WRONG_REALM',
    });
  }
  const missing = (requirement.scopes ?? []).filter((s) => !principal.scopes.has(s));
  if (missing.length) {
    throw new NotAllowedError(`the access token lacks the scope(s) ${missing.join(', ')}`, {
      code: 'INSUFFICIENT_SCOPE',
      requiredScopes: missing,
    });
  }
}

/** Route guard: `preHandler: requireAuth(verifier, { scopes: ['uid'] })`. */
export function requireAuth(
  verifier: TokenVerifier,
  requirement: AuthRequirement = {},
): preHandlerAsyncHookHandler {
  return async function requireAuthHook(request) {
    const principal = await authenticate(verifier, request);
    checkRequirement(principal, requirement);
    request.principal = principal;
  };
}

/** The principal set by `requireAuth`; a programming error if the route has no guard. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new TypeError(`route ${request.routeOptions.url} has no requireAuth guard`);
  return request.principal;
}
