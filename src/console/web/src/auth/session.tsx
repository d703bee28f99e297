import type { ClientConfig } from '../config';
import { codeChallengeS256, randomToken } from './pkce';

/** The tokens of the signed-in person. Kept in memory and in sessionStorage (one tab, until it closes). */
export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const SESSION_KEY = 'stups.console.session';
const PENDING_KEY = 'stups.console.login';

interface PendingLogin {
  state: string;
  verifier: string;
  returnTo: string;
}

interface TokenAnswer {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

/** A failure of the login itself, in words a person can act on. */
export class LoginError extends Error {}

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
): Promise<string> {
  const pending: PendingLogin = { state: randomToken(16), verifier: randomToken(32), returnTo };
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL('/oauth2/authorize', config.tokenServiceUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(config, origin),
    scope: config.scopes.join(' '),
    state: pending.state,
    code_challenge: await codeChallengeS256(pending.verifier),
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

function toTokens(answer: TokenAnswer, now: number): Tokens {
  return {
    accessToken: answer.access_token,
    ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
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
    return toTokens({ refresh_token: tokens.refreshToken, ...answer }, Date.now());
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

/** Only paths of this app: a crafted state must not send people to another site. */
export function safeReturnPath(path: string | undefined): string {
  return path && path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/auth/') ? path : '/';
}
