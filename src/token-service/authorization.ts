import type { OAuthClient } from './contract.js';
import type { TokenServiceCore } from './core.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthParams } from './params.js';
import { requestedAudience } from './resources.js';
import { allowedScopes, grantScopes, parseScope } from './scopes.js';
import { type RequestMeta, requireRealm } from './token-endpoint.js';

/** An authorization request that may not be redirected back: the client or its redirect URI is unknown. */
export class UnredirectableError extends Error {}

/** A validated authorization request (RFC 6749 §4.1.1 + RFC 7636 + OIDC nonce). */
export interface AuthorizationRequest {
  client: OAuthClient;
  /** As given in the request, or null when the client's only URI was used. */
  requestedRedirectUri: string | null;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  codeChallenge: string;
  nonce: string | undefined;
  /** RFC 8707 resources the tokens for this code are meant for; undefined: the platform's services. */
  resources: string[] | undefined;
}

const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * Checks an authorization request. Problems with the client or redirect URI throw
 * `UnredirectableError` (shown on a page); all others throw `OAuthError` with the request's
 * redirect target attached, to be sent back to the client.
 */
export async function validateAuthorizationRequest(
  core: TokenServiceCore,
  params: OAuthParams,
): Promise<AuthorizationRequest> {
  const clientId = params.client_id;
  if (!clientId) throw new UnredirectableError('The request names no client (client_id is missing).');
  const client = await core.clients.getClient(clientId);
  if (!client || client.disabled) throw new UnredirectableError(`Unknown client "${clientId}".`);
  const requested = params.redirect_uri;
  let redirectUri: string;
  if (requested !== undefined) {
    if (!client.redirectUris.some((registered) => redirectUriMatches(registered, requested))) {
      throw new UnredirectableError(`The redirect URI is not registered for client "${clientId}".`);
    }
    redirectUri = requested;
  } else if (client.redirectUris.length === 1) {
    redirectUri = client.redirectUris[0]!;
  } else {
    throw new UnredirectableError(`The request must name one of the client's redirect URIs.`);
  }
  const partial = { redirectUri, state: params.state };
  try {
    if (params.response_type === undefined) {
      throw new OAuthError('invalid_request', 'parameter "response_type" is missing');
    }
    if (params.response_type !== 'code') {
      throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
    }
    if (!client.grantTypes.includes('authorization_code')) {
      throw new OAuthError(
        'unauthorized_client',
        `client ${clientId} may not use the authorization code grant`,
      );
    }
    requireRealm(client, 'employees');
    const codeChallenge = params.code_challenge;
    if (codeChallenge === undefined || !CODE_CHALLENGE.test(codeChallenge)) {
      throw new OAuthError(
        'invalid_request',
        'PKCE is required: send code_challenge with code_challenge_method=S256',
      );
    }
    if (params.code_challenge_method !== 'S256') {
      throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
    }
    const scopes = grantScopes(
      parseScope(params.scope),
      allowedScopes(core.config.employeeScopes, client.scopes),
      core.config.defaultScopes,
    );
    // RFC 8707 §2: an unknown resource goes back to the client as invalid_target.
    const resources = requestedAudience(core, params);
    return {
      client,
      resources,
      requestedRedirectUri: requested ?? null,
      redirectUri,
      state: params.state,
      scopes,
      codeChallenge,
      nonce: params.nonce,
    };
  } catch (error) {
    if (error instanceof OAuthError)
      throw new RedirectableError(error, partial.redirectUri, partial.state, core.issuer);
    throw error;
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Exact match, except for loopback redirects of native apps (RFC 8252 §7.3, §8.3): their port is
 * chosen at run time, so any port is accepted, and `http://localhost:8081` and
 * `http://localhost:8081/` are the same URI (the path `/` is implied). Scheme, host, path and query
 * must still match.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  let want: URL;
  let got: URL;
  try {
    want = new URL(registered);
    got = new URL(requested);
  } catch {
    return false;
  }
  return (
    want.protocol === 'http:' &&
    got.protocol === 'http:' &&
    LOOPBACK_HOSTS.has(want.hostname) &&
    got.hostname === want.hostname &&
    got.username === '' &&
    got.password === '' &&
    got.hash === '' &&
    got.pathname === want.pathname &&
    got.search === want.search
  );
}

/** An OAuth error to send back to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class RedirectableError extends Error {
  readonly location: string;
  constructor(error: OAuthError, redirectUri: string, state: string | undefined, issuer: string) {
    super(error.message);
    this.location = redirectTo(redirectUri, {
      error: error.error,
      error_description: error.message,
      state,
      iss: issuer,
    });
  }
}

/** Issues the code after the employee logged in; returns where to send the browser. */
export async function completeAuthorization(
  core: TokenServiceCore,
  request: AuthorizationRequest,
  uid: string,
  requestId: string,
): Promise<string> {
  const code = await core.db.transaction().execute(async (trx) => {
    const created = await core.codes.create(
      {
        clientId: request.client.clientId,
        redirectUri: request.requestedRedirectUri,
        uid,
        scopes: request.scopes,
        codeChallenge: request.codeChallenge,
        nonce: request.nonce ?? null,
        authTime: new Date(core.now()),
        resources: request.resources ?? null,
      },
      trx,
    );
    await core.audit(trx, {
      event: 'token-service.authorization_code.issue',
      actor: { uid, realm: 'employees' },
      targetId: request.client.clientId,
      details: { client_id: request.client.clientId, scope: request.scopes.join(' ') },
      requestId,
    });
    return created;
  });
  // RFC 9207 `iss`, so a client talking to several servers knows who answered.
  return redirectTo(request.redirectUri, { code, state: request.state, iss: core.issuer });
}

function redirectTo(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

const WRONG_LOGIN = 'Wrong user name or password.';

/**
 * Checks an employee's password for the HTML pages, auditing failures: the uid, or what to tell
 * the person. A throttled attempt reads exactly like a wrong password, after the same work.
 */
export async function loginEmployee(
  core: TokenServiceCore,
  username: string | undefined,
  password: string | undefined,
  page: string,
  meta: RequestMeta,
): Promise<{ uid: string } | { error: string }> {
  const { source } = meta;
  if (!username || !password) return { error: WRONG_LOGIN };
  const account = `employees/${username}`;
  const throttled = core.logins.retryAfter(account, source) > 0;
  const valid = await core.users.verifyPassword(username, password);
  if (valid && !throttled) {
    core.logins.recordSuccess(account, source);
    return { uid: username };
  }
  if (!throttled) core.logins.recordFailure(account, source);
  // Nothing changed, so the failure stands alone; only the audit trail tells throttling apart.
  await core.audit.standalone({
    event: 'token-service.login.fail',
    actor: { uid: username, realm: 'employees' },
    outcome: 'failure',
    details: { page, reason: throttled ? 'too many failed logins' : 'wrong user name or password' },
    requestId: meta.requestId,
  });
  return { error: WRONG_LOGIN };
}
