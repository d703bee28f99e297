import { IMPLICIT_GRANT, type OAuthClient } from './contract.js';
import type { TokenServiceCore } from './core.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthParams } from './params.js';
import { requestedAudience } from './resources.js';
import { allowedScopes, grantScopes, parseScope } from './scopes.js';
import type { SignInSession } from './session-store.js';
import { type RequestMeta, requireRealm } from './token-endpoint.js';

/** An authorization request that may not be redirected back: the client or its redirect URI is unknown. */
export class UnredirectableError extends Error {}

/** What every validated authorization request has (RFC 6749 §4.1.1, §4.2.1 + OIDC nonce). */
interface AuthorizationRequestBase {
  client: OAuthClient;
  /** As given in the request, or null when the client's only URI was used. */
  requestedRedirectUri: string | null;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  nonce: string | undefined;
  /** RFC 8707 resources the tokens for this code are meant for; undefined: the platform's services. */
  resources: string[] | undefined;
  /** OIDC `prompt`: `none` never shows a page, `login` always asks for the password. */
  prompt: 'none' | 'login' | undefined;
  /** OIDC `max_age` in seconds: an older sign-in asks for the password again. */
  maxAge: number | undefined;
}

/**
 * A validated authorization request: the code flow with PKCE (RFC 7636), or the legacy implicit
 * flow of STUPS-era clients (RFC 6749 §4.2), which answers with an access token in the fragment.
 */
export type AuthorizationRequest = AuthorizationRequestBase & Flow;
type Flow = { responseType: 'code'; codeChallenge: string } | { responseType: 'token' };

const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;
const MAX_AGE = /^\d{1,10}$/;

/**
 * Checks an authorization request. Problems with the client or redirect URI throw
 * `UnredirectableError` (shown on a page); all others throw `RedirectableError` with the
 * request's redirect target attached, to be sent back to the client.
 */
export async function validateAuthorizationRequest(
  core: TokenServiceCore,
  params: OAuthParams,
): Promise<AuthorizationRequest> {
  const clientId = params.client_id;
  if (!clientId) {
    // Signed request objects may carry client_id inside; we do not read them (OIDC Core §6).
    if (params.request !== undefined || params.request_uri !== undefined) {
      throw new UnredirectableError(
        'Request objects (request, request_uri) are not supported: send the parameters in the URL or form.',
      );
    }
    throw new UnredirectableError('The request names no client (client_id is missing).');
  }
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
  // RFC 6749 §4.2.2.1: the implicit flow answers in the fragment, errors included.
  const inFragment = params.response_type === 'token';
  try {
    const flow = checkResponseType(client, params, redirectUri);
    requireRealm(client, 'employees');
    const prompt = checkPrompt(params.prompt);
    if (params.max_age !== undefined && !MAX_AGE.test(params.max_age)) {
      throw new OAuthError('invalid_request', 'max_age must be a number of seconds');
    }
    const scopes = grantScopes(
      parseScope(params.scope),
      allowedScopes(core.config.employeeScopes, client.scopes),
      core.config.defaultScopes,
      core.config.unallowedScopes,
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
      nonce: params.nonce,
      prompt,
      maxAge: params.max_age === undefined ? undefined : Number(params.max_age),
      ...flow,
    };
  } catch (error) {
    if (error instanceof OAuthError)
      throw new RedirectableError(error, redirectUri, params.state, core.issuer, inFragment);
    throw error;
  }
}

/** The request's response type, checked against what the client and its redirect URI allow. */
function checkResponseType(client: OAuthClient, params: OAuthParams, redirectUri: string): Flow {
  // OIDC Core §6.1, §6.2: refused, not silently ignored, so the client does not assume its
  // signed parameters were honoured.
  if (params.request !== undefined) {
    throw new OAuthError('request_not_supported', 'request objects ("request") are not supported');
  }
  if (params.request_uri !== undefined) {
    throw new OAuthError('request_uri_not_supported', '"request_uri" is not supported');
  }
  if (params.response_type === undefined) {
    throw new OAuthError('invalid_request', 'parameter "response_type" is missing');
  }
  if (params.response_type === 'token') {
    checkImplicit(client, redirectUri);
    return { responseType: 'token' };
  }
  if (params.response_type !== 'code') {
    throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
  }
  if (!client.grantTypes.includes('authorization_code')) {
    throw new OAuthError(
      'unauthorized_client',
      `client ${client.clientId} may not use the authorization code grant`,
    );
  }
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
  return { responseType: 'code', codeChallenge };
}

/**
 * OIDC Core §3.1.2.1 `prompt`: `none` must be answered without any page (with the sign-in
 * session, or `login_required`); `login`, `consent` and `select_account` all show the login page,
 * which names the client and its scopes and asks for the password, even with a session. Unknown
 * values are ignored, as for any extension parameter.
 */
function checkPrompt(prompt: string | undefined): 'none' | 'login' | undefined {
  if (prompt === undefined) return undefined;
  const values = prompt.split(' ').filter((value) => value !== '');
  if (values.includes('none')) {
    if (values.length > 1)
      throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values');
    return 'none';
  }
  return values.some((value) => INTERACTIVE_PROMPTS.has(value)) ? 'login' : undefined;
}

const INTERACTIVE_PROMPTS = new Set(['login', 'consent', 'select_account']);

/**
 * Answers an authorization request with the sign-in session when the request allows it: the
 * browser's next stop, or undefined when the login page must ask for the password. `prompt=none`
 * never gets the page: without a usable session it goes back as `login_required`.
 */
export async function authorizeWithSession(
  core: TokenServiceCore,
  request: AuthorizationRequest,
  session: SignInSession | undefined,
  requestId: string,
): Promise<string | undefined> {
  const fresh =
    session !== undefined &&
    (request.maxAge === undefined || core.now() - session.authTime.getTime() <= request.maxAge * 1000);
  if (request.prompt === 'none') {
    if (!session || !fresh) {
      const error = new OAuthError(
        'login_required',
        session ? 'the sign-in is older than max_age; the user must log in' : 'the user is not signed in',
      );
      throw new RedirectableError(
        error,
        request.redirectUri,
        request.state,
        core.issuer,
        request.responseType === 'token',
      );
    }
  } else if (!session || !fresh || request.prompt === 'login') return undefined;
  return completeAuthorization(core, request, session.uid, requestId, session.authTime, session.idHash);
}

/**
 * The legacy implicit flow (RFC 6749 §4.2) of STUPS-era clients: only for clients that have the
 * `implicit` grant (the built-in `zign` by default), and only to loopback redirect URIs, where the
 * token never leaves the user's machine (RFC 8252 §7.3). RFC 9700 §2.1.2 advises against it
 * everywhere else; those clients use the code flow with PKCE.
 */
function checkImplicit(client: OAuthClient, redirectUri: string): void {
  if (!client.grantTypes.includes(IMPLICIT_GRANT)) {
    throw new OAuthError(
      'unauthorized_client',
      `client ${client.clientId} may not use response_type=token; use response_type=code with PKCE`,
    );
  }
  if (!isLoopbackRedirect(redirectUri)) {
    throw new OAuthError(
      'unsupported_response_type',
      'response_type=token is only supported for loopback redirect URIs; use response_type=code with PKCE',
    );
  }
}

/** `http://localhost`, `http://127.0.0.1` or `http://[::1]`, any port and path (RFC 8252 §7.3). */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
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

/** An OAuth error to send back to the client's redirect URI (RFC 6749 §4.1.2.1, §4.2.2.1). */
export class RedirectableError extends Error {
  readonly location: string;
  constructor(
    error: OAuthError,
    redirectUri: string,
    state: string | undefined,
    issuer: string,
    inFragment = false,
  ) {
    super(error.message);
    const answer = { error: error.error, error_description: error.message, state, iss: issuer };
    this.location = inFragment ? redirectWithFragment(redirectUri, answer) : redirectTo(redirectUri, answer);
  }
}

/** Issues the code (or, in the implicit flow, the access token) after the employee logged in; returns where to send the browser. */
export async function completeAuthorization(
  core: TokenServiceCore,
  request: AuthorizationRequest,
  uid: string,
  requestId: string,
  /** When the password was checked (the sign-in session's start): `auth_time` of the ID token. */
  authTime: Date,
  /** The sign-in session issuing the code (its id's digest): its sign-out revokes what the code gives. */
  sessionIdHash: string | null,
): Promise<string> {
  if (request.responseType === 'token') return completeImplicit(core, request, uid, requestId);
  const { codeChallenge } = request;
  const code = await core.db.transaction().execute(async (trx) => {
    const created = await core.codes.create(
      {
        clientId: request.client.clientId,
        redirectUri: request.requestedRedirectUri,
        uid,
        scopes: request.scopes,
        codeChallenge,
        nonce: request.nonce ?? null,
        authTime,
        resources: request.resources ?? null,
        sessionIdHash,
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

/**
 * RFC 6749 §4.2.2: the access token in the redirect's fragment, which the browser hands to the
 * loopback page but never sends over the network. No refresh token (§4.2.2 forbids one) and no
 * ID token (that needs `response_type=id_token token`). Nothing is stored, so the issuance is
 * audited on its own, as the token endpoint does for stateless tokens.
 */
async function completeImplicit(
  core: TokenServiceCore,
  request: AuthorizationRequest,
  uid: string,
  requestId: string,
): Promise<string> {
  const clientId = request.client.clientId;
  const minted = await core.minter.mint({
    uid,
    realm: 'employees',
    scopes: request.scopes,
    clientId,
    grantType: IMPLICIT_GRANT,
    refresh: false,
  });
  await core.audit.standalone({
    event: 'token-service.token.issue',
    actor: { uid, realm: 'employees' },
    targetId: minted.jti,
    details: {
      client_id: clientId,
      grant_type: IMPLICIT_GRANT,
      realm: 'employees',
      scope: minted.response.scope,
      refresh_token: false,
    },
    requestId,
  });
  // Only the access token: an ID token the minter signed for `openid` is not part of this answer.
  const { response } = minted;
  return redirectWithFragment(request.redirectUri, {
    access_token: response.access_token,
    token_type: response.token_type,
    expires_in: String(response.expires_in),
    scope: response.scope,
    state: request.state,
    iss: core.issuer,
  });
}

function redirectTo(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** The parameters form-encoded into the fragment (RFC 6749 §4.2.2, Appendix B). */
function redirectWithFragment(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  const fragment = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) fragment.set(name, value);
  url.hash = fragment.toString();
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
  const throttled = (await core.logins.retryAfter(account, source)) > 0;
  const valid = await core.users.verifyPassword(username, password);
  if (valid && !throttled) {
    await core.logins.recordSuccess(account, source);
    return { uid: username };
  }
  if (!throttled) await core.logins.recordFailure(account, source);
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
