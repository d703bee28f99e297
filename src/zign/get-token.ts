import { loadToolConfig, normaliseUrl, saveToolConfig } from '../platform/cli/cli-config.js';
import { CliError } from '../platform/cli/cli-error.js';
import type { CliIo } from '../platform/cli/run-cli.js';
import { ServiceTokenError, ServiceTokens } from '../platform/service-tokens/service-tokens.js';
import {
  type ClientCredentials,
  discover,
  pollDeviceToken,
  requestToken,
  startDeviceAuthorization,
  type TokenResponse,
} from './oauth-client.js';
import { copyToTokenCli } from './token-cli-files.js';
import { type CachedToken, isFresh, readTokenCache, writeTokenCache } from './token-cache.js';

/** The public OAuth client Zign logs employees in with. */
export const ZIGN_CLIENT_ID = 'zign';
export const DEFAULT_TOKEN_NAME = 'default';

export interface LoginOptions {
  user?: string | undefined;
  /** Given password (from --password-stdin); otherwise prompt on a terminal. */
  password?: string | undefined;
  /** Use the device flow (RFC 8628) instead of a password. */
  device?: boolean | undefined;
  /** Ignore cached and refreshable tokens. */
  refresh?: boolean | undefined;
}

export interface ZignDeps {
  io: CliIo;
  fetch?: typeof fetch;
  /** Asks for a password on a terminal. */
  promptPassword?: (message: string) => Promise<string>;
  sleep?: (ms: number) => Promise<void>;
}

/** `OAUTH2_ACCESS_TOKENS=name=token,…` pins tokens without any call, as the STUPS libraries do. */
function pinnedToken(env: NodeJS.ProcessEnv, name: string): string | undefined {
  for (const pair of (env.OAUTH2_ACCESS_TOKENS ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A service token from mint's credentials (`CREDENTIALS_DIR/user.json` and `client.json`, password
 * grant against `OAUTH2_ACCESS_TOKEN_URL`), through the kernel's service-token library, so zign and
 * services get them the same way (files re-read, one retry after a refusal during a rotation).
 */
async function serviceToken(
  env: NodeJS.ProcessEnv,
  name: string,
  scopes: readonly string[],
  deps: ZignDeps,
): Promise<string> {
  const tokens = new ServiceTokens({
    credentialsDir: env.CREDENTIALS_DIR,
    tokenUrl: env.OAUTH2_ACCESS_TOKEN_URL,
    fetch: deps.fetch,
  }).manage(name, scopes);
  try {
    return await tokens.get(name);
  } catch (error) {
    if (error instanceof ServiceTokenError) throw new CliError(error.message);
    throw error;
  }
}

export async function tokenServiceUrl(env: NodeJS.ProcessEnv): Promise<string> {
  const config = await loadToolConfig('zign', env);
  if (!config.url) {
    throw new CliError('no token service URL configured: run "zign configure --url URL" (or set ZIGN_URL)');
  }
  return normaliseUrl(config.url);
}

function toCached(
  response: TokenResponse,
  tokenUrl: string,
  requested: readonly string[],
  previous?: CachedToken,
): CachedToken {
  return {
    access_token: response.access_token,
    refresh_token: response.refresh_token ?? previous?.refresh_token,
    expires_at: new Date(Date.now() + response.expires_in * 1000).toISOString(),
    scope: response.scope ? response.scope.split(' ').filter(Boolean) : [...requested],
    token_url: tokenUrl,
    created: new Date().toISOString(),
  };
}

/** Logs an employee in by password or device flow and returns the token response. */
async function login(
  tokenUrl: string,
  deviceUrl: string | undefined,
  scopes: readonly string[],
  options: LoginOptions,
  deps: ZignDeps,
): Promise<TokenResponse> {
  const client: ClientCredentials = { client_id: ZIGN_CLIENT_ID };
  const realm = '/employees';
  if (options.device) {
    if (!deviceUrl)
      throw new CliError('this token service does not offer the device flow; log in with a password');
    const device = await startDeviceAuthorization(deviceUrl, client, scopes, { realm, fetch: deps.fetch });
    deps.io.stderr.write(
      `To log in, open ${device.verification_uri_complete ?? device.verification_uri}\nand confirm the code ${device.user_code}\n`,
    );
    return pollDeviceToken(tokenUrl, client, device, { realm, fetch: deps.fetch, sleep: deps.sleep });
  }
  const config = await loadToolConfig('zign', deps.io.env);
  const user = options.user ?? config.user ?? deps.io.env.USER;
  // Every CLI that needs a token ends up here (kio, pierone, piu, …): hints name zign's own
  // commands, which exist whichever tool printed them, not options of the tool at hand.
  if (!user)
    throw new CliError('no user name: run "zign login --user NAME" (or "zign configure --user NAME")');
  let password = options.password;
  if (password === undefined) {
    if (!deps.io.stdin.isTTY || !deps.promptPassword) {
      throw new CliError(
        'not logged in: run "zign login" on a terminal (in scripts: "zign login --password-stdin")',
      );
    }
    password = await deps.promptPassword(`Password for ${user}:`);
  }
  const response = await requestToken(
    tokenUrl,
    { grant_type: 'password', username: user, password, scope: scopes.join(' ') },
    client,
    { realm, fetch: deps.fetch },
  );
  if (options.user && options.user !== config.user)
    await saveToolConfig('zign', deps.io.env, { user: options.user });
  return response;
}

/**
 * The token every STUPS CLI sends: pinned, a service token from mint's credentials, a
 * cached one, a refreshed one, or a fresh login, in that order.
 */
export async function getToken(
  name: string,
  scopes: readonly string[],
  options: LoginOptions,
  deps: ZignDeps,
): Promise<string> {
  const env = deps.io.env;
  const pinned = pinnedToken(env, name);
  if (pinned) return pinned;
  if (env.CREDENTIALS_DIR && env.OAUTH2_ACCESS_TOKEN_URL) return serviceToken(env, name, scopes, deps);

  const baseUrl = await tokenServiceUrl(env);
  const endpoints = await discover(baseUrl, deps.fetch);
  const cache = await readTokenCache(env);
  const cached = cache[name];
  const usable =
    cached && cached.token_url === endpoints.token && scopes.every((s) => cached.scope.includes(s));

  if (usable && !options.refresh && isFresh(cached)) return cached.access_token;
  let response: TokenResponse | undefined;
  if (usable && cached.refresh_token && !options.password && !options.device) {
    try {
      response = await requestToken(
        endpoints.token,
        { grant_type: 'refresh_token', refresh_token: cached.refresh_token },
        { client_id: ZIGN_CLIENT_ID },
        { realm: '/employees', fetch: deps.fetch },
      );
    } catch {
      // An expired or revoked refresh token just means logging in again.
    }
  }
  response ??= await login(endpoints.token, endpoints.deviceAuthorization, scopes, options, deps);
  const fresh = await readTokenCache(env);
  const stored = toCached(response, endpoints.token, scopes, usable ? cached : undefined);
  fresh[name] = stored;
  await writeTokenCache(env, fresh);
  await copyForTokenCli(deps, name, response, stored);
  return response.access_token;
}

/**
 * Keeps a copy of the token where tools of the original Zign look (`zalando-token-cli/tokens.yaml`,
 * their format; no refresh token, which stays in our own cache only). The token was obtained, so
 * a copy that cannot be written costs a warning, never the command.
 */
async function copyForTokenCli(
  deps: ZignDeps,
  name: string,
  response: TokenResponse,
  stored: CachedToken,
): Promise<void> {
  try {
    await copyToTokenCli(deps.io.env, name, {
      access_token: response.access_token,
      creation_time: Math.floor(new Date(stored.created).getTime() / 1000),
      expires_in: response.expires_in,
      token_type: response.token_type,
      scope: stored.scope.join(' '),
    });
  } catch (error) {
    const reason =
      error instanceof CliError ? error.message : ((error as NodeJS.ErrnoException).code ?? 'error');
    deps.io.stderr.write(`zign: warning: the copy for zalando-token-cli was not written: ${reason}\n`);
  }
}
