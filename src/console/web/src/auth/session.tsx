import type { ClientConfig } from '../config';
import { codeChallengeS256, randomToken } from './pkce';

/** The tokens of the signed-in person. Kept in memory and in sessionStorage (one tab, until it closes). */
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  /** The ID token: the hint that lets sign-out end the token service's session without asking. */
  idToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const SESSION_KEY = 'stups.console.session';
const PENDING_KEY = 'stups.console.login';
/** Set once this tab asked the token service silently (`prompt=none`), so a failed try is not repeated. */
const SILENT_KEY = 'stups.console.silent-login';
const LOGOUT_KEY = 'stups.console.logout';
/** Tabs of this console tell each other about a sign-out on this channel. */
const SIGN_OUT_CHANNEL = 'stups.console.session';

interface PendingLogin {
  state: string;
  verifier: string;
  returnTo: string;
  /** Asked with `prompt=none`: a refusal means "not signed in at the token service", no error. */
  silent?: boolean;
}

interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
}

/** A failure of the login itself, in words a person can act on. */
export class LoginError extends Error {}

/** The silent sign-in found no session at the token service: show the sign-in page, quietly. */
export class NoSingleSignOn extends LoginError {
  constructor(readonly returnTo: string) {
    super('There is no sign-in session at the token service.');
  }
}

export function loadTokens(storage: Storage = sessionStorage): Tokens | undefined {
  const raw = storage.getItem(SESSION_KEY);
  if (!raw) return undefined;
  try {
    const tokens = JSON.parse(raw) as Tokens;
    return typeof tokens.accessToken === 'string' && typeof tokens.expiresAt === 'number'
      ? tokens
      : undefined;
  } catch {
    return undefined;
  }
}

export function saveTokens(tokens: Tokens | undefined, storage: Storage = sessionStorage): void {
  if (tokens) storage.setItem(SESSION_KEY, JSON.stringify(tokens));
  else storage.removeItem(SESSION_KEY);
}

export function redirectUri(config: ClientConfig, origin = location.origin): string {
  return `${origin}${config.redirectPath}`;
}

/** The token service's authorization URL with PKCE S256 and a fresh state; remembers both. */
export async function beginLogin(
  config: ClientConfig,
  returnTo: string,
  storage: Storage = sessionStorage,
  origin = location.origin,
  options: { silent?: boolean } = {},
): Promise<string> {
  const pending: PendingLogin = {
    state: randomToken(16),
    verifier: randomToken(32),
    returnTo,
    ...(options.silent ? { silent: true } : {}),
  };
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  if (options.silent) storage.setItem(SILENT_KEY, '1');
  const url = new URL('/oauth2/authorize', config.tokenServiceUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(config, origin),
    scope: config.scopes.join(' '),
    state: pending.state,
    code_challenge: await codeChallengeS256(pending.verifier),
    code_challenge_method: 'S256',
    // Single sign-on: the token service answers at once, with a code or with login_required.
    ...(options.silent ? { prompt: 'none' } : {}),
  }).toString();
  return url.toString();
}

/**
 * Whether this tab should first ask the token service silently: a new tab of a person signed in
 * elsewhere then needs no password. Once per tab until it signs in, so a refusal is not repeated.
 */
export function shouldTrySilentLogin(storage: Storage = sessionStorage): boolean {
  return storage.getItem(SILENT_KEY) === null;
}

function toTokens(answer: TokenAnswer, now: number): Tokens {
  return {
    accessToken: answer.access_token,
    ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
    ...(answer.id_token ? { idToken: answer.id_token } : {}),
    expiresAt: now + (answer.expires_in ?? 3600) * 1000,
  };
}

async function tokenRequest(config: ClientConfig, form: Record<string, string>): Promise<TokenAnswer> {
  let response: Response;
  try {
    response = await fetch(`${config.services['token-service']}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ client_id: config.clientId, ...form }).toString(),
    });
  } catch {
    throw new LoginError('The console cannot reach the token service. Check that the platform is running.');
  }
  const body = (await response.json().catch(() => ({}))) as Partial<TokenAnswer> & {
    error?: string;
    error_description?: string;
  };
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new LoginError(
      `The token service refused the sign-in${body.error_description ? `: ${body.error_description}` : '.'}`,
    );
  }
  return body as TokenAnswer;
}

/**
 * Handles the redirect back from the token service: checks the state, exchanges the code
 * (through the console's proxy, since the token service has no CORS) and returns the tokens
 * and where the person wanted to go.
 */
export async function completeLogin(
  config: ClientConfig,
  callbackUrl: string,
  storage: Storage = sessionStorage,
  now = Date.now(),
): Promise<{ tokens: Tokens; returnTo: string }> {
  const params = new URL(callbackUrl).searchParams;
  const raw = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY);
  const pending = raw ? (JSON.parse(raw) as PendingLogin) : undefined;
  const error = params.get('error');
  if (error && pending?.silent && params.get('state') === pending.state) {
    throw new NoSingleSignOn(safeReturnPath(pending.returnTo));
  }
  if (error) {
    const description = params.get('error_description');
    throw new LoginError(`The sign-in did not complete${description ? `: ${description}` : ` (${error})`}.`);
  }
  if (!pending || params.get('state') !== pending.state) {
    throw new LoginError(
      'This sign-in link is not from this browser tab or was used already. Sign in again.',
    );
  }
  const issuer = params.get('iss');
  if (issuer && issuer.replace(/\/$/, '') !== config.tokenServiceUrl.replace(/\/$/, '')) {
    throw new LoginError('The sign-in answer came from an unexpected token service. Sign in again.');
  }
  const code = params.get('code');
  if (!code) throw new LoginError('The token service sent no authorization code. Sign in again.');
  const answer = await tokenRequest(config, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri(config, new URL(callbackUrl).origin),
    code_verifier: pending.verifier,
  });
  const tokens = toTokens(answer, now);
  saveTokens(tokens, storage);
  // Signed in: after a later sign-out, the next page load may ask silently once more.
  storage.removeItem(SILENT_KEY);
  return { tokens, returnTo: safeReturnPath(pending.returnTo) };
}

/** Trades the refresh token for new tokens; undefined when there is none or it stopped working. */
export async function refreshTokens(config: ClientConfig, tokens: Tokens): Promise<Tokens | undefined> {
  if (!tokens.refreshToken) return undefined;
  try {
    const answer = await tokenRequest(config, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refreshToken,
    });
    return toTokens(
      {
        refresh_token: tokens.refreshToken,
        ...(tokens.idToken ? { id_token: tokens.idToken } : {}),
        ...answer,
      },
      Date.now(),
    );
  } catch {
    return undefined;
  }
}

/** Revokes the refresh token, best effort: signing out must work even when the service is down. */
export async function revokeTokens(config: ClientConfig, tokens: Tokens): Promise<void> {
  if (!tokens.refreshToken) return;
  await fetch(`${config.services['token-service']}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: config.clientId,
      token: tokens.refreshToken,
      token_type_hint: 'refresh_token',
    }).toString(),
  }).catch(() => undefined);
}

/**
 * The token service's end-session URL (OIDC RP-Initiated Logout): it ends the sign-in session, so
 * no tab or application gets in without the password, and sends the browser back to the callback
 * with a state this tab remembers. The ID token lets it do so without asking.
 */
export function beginLogout(
  config: ClientConfig,
  tokens: Tokens | undefined,
  storage: Storage = sessionStorage,
  origin = location.origin,
): string {
  const state = randomToken(16);
  storage.setItem(LOGOUT_KEY, state);
  const url = new URL('/oauth2/logout', config.tokenServiceUrl);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    post_logout_redirect_uri: redirectUri(config, origin),
    state,
    ...(tokens?.idToken ? { id_token_hint: tokens.idToken } : {}),
  }).toString();
  return url.toString();
}

/** Whether the callback URL is the token service sending this tab back after its sign-out. */
export function isLogoutReturn(callbackUrl: string, storage: Storage = sessionStorage): boolean {
  const params = new URL(callbackUrl).searchParams;
  const expected = storage.getItem(LOGOUT_KEY);
  storage.removeItem(LOGOUT_KEY);
  return expected !== null && !params.has('code') && params.get('state') === expected;
}

/** The console's tabs telling each other about a sign-out (BroadcastChannel, same origin only). */
export interface SignOutChannel {
  /** Tells the other tabs; this tab's own listener does not hear it. */
  announce(): void;
  close(): void;
}

export function signOutChannel(onSignedOutElsewhere: () => void): SignOutChannel {
  if (typeof BroadcastChannel === 'undefined') return { announce: () => undefined, close: () => undefined };
  const channel = new BroadcastChannel(SIGN_OUT_CHANNEL);
  channel.onmessage = (event: MessageEvent) => {
    if (event.data === 'signed-out') onSignedOutElsewhere();
  };
  return { announce: () => channel.postMessage('signed-out'), close: () => channel.close() };
}

/** Only paths of this app: a crafted state must not send people to another site. */
export function safeReturnPath(path: string | undefined): string {
  return path && path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/auth/') ? path : '/';
}
