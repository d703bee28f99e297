import { z } from 'zod';
import { CliError } from '../platform/cli/cli-error.js';
import { networkErrorCode } from '../platform/cli/http-client.js';

/** What a token endpoint answers (RFC 6749 section 5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  refresh_token?: string;
}

/**
 * How Zign reads a token answer: lenient where RFC 6749 §5.1 is (any `token_type` spelling, extra
 * fields, `expires_in` only RECOMMENDED — an hour then, the lifetime STUPS tokens always had), strict
 * where a wrong value would be used as a token.
 */
const TokenAnswerSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().min(1),
  expires_in: z.number().int().positive().optional().default(3600),
  scope: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
});

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

export interface Endpoints {
  token: string;
  /** Where a browser logs in (the implicit and code flows); clients of the STUPS era open it. */
  authorization: string | undefined;
  deviceAuthorization: string | undefined;
}

async function call(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch (error) {
    throw new CliError(
      `cannot reach the token service at ${new URL(url).origin}: ${networkErrorCode(error)}`,
    );
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new CliError(
      `the token service at ${new URL(url).origin} answered ${response.status} with something that is not JSON`,
    );
  }
  return { status: response.status, body };
}

/** An OAuth error as one line: `invalid_grant: wrong user name or password`. */
export function oauthErrorMessage(body: Record<string, unknown>, status: number): string {
  const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  const description = typeof body.error_description === 'string' ? body.error_description : undefined;
  return description ? `${error}: ${description}` : error;
}

/** Finds the token and device endpoints through OIDC discovery of the given base URL. */
export async function discover(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<Endpoints> {
  const url = `${baseUrl}/.well-known/openid-configuration`;
  const { status, body } = await call(fetchImpl, url, { headers: { accept: 'application/json' } });
  if (status !== 200 || typeof body.token_endpoint !== 'string') {
    throw new CliError(
      `${baseUrl} does not look like a token service (no OIDC discovery document, HTTP ${status})`,
    );
  }
  return {
    token: body.token_endpoint,
    authorization: typeof body.authorization_endpoint === 'string' ? body.authorization_endpoint : undefined,
    deviceAuthorization:
      typeof body.device_authorization_endpoint === 'string' ? body.device_authorization_endpoint : undefined,
  };
}

function withRealm(url: string, realm: string | undefined): string {
  if (!realm) return url;
  const u = new URL(url);
  if (!u.searchParams.has('realm')) u.searchParams.set('realm', realm);
  return u.toString();
}

export interface ClientCredentials {
  client_id: string;
  client_secret?: string | undefined;
}

function clientAuth(client: ClientCredentials, form: URLSearchParams): Record<string, string> {
  if (client.client_secret === undefined) {
    form.set('client_id', client.client_id);
    return {};
  }
  const basic = Buffer.from(
    `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`,
  ).toString('base64');
  return { authorization: `Basic ${basic}` };
}

/** POSTs a form to the token endpoint; OAuth errors become one-line CliErrors. */
export async function requestToken(
  tokenUrl: string,
  params: Record<string, string>,
  client: ClientCredentials,
  options: { realm?: string | undefined; fetch?: typeof fetch } = {},
): Promise<TokenResponse> {
  const form = new URLSearchParams(params);
  const headers = clientAuth(client, form);
  const { status, body } = await call(options.fetch ?? fetch, withRealm(tokenUrl, options.realm), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: form.toString(),
  });
  if (status !== 200 || typeof body.access_token !== 'string') {
    throw new OAuthError(
      oauthErrorMessage(body, status),
      typeof body.error === 'string' ? body.error : undefined,
    );
  }
  const answer = TokenAnswerSchema.safeParse(body);
  if (!answer.success) {
    const [issue] = answer.error.issues;
    throw new CliError(
      `the token service at ${new URL(tokenUrl).origin} answered something that is not a token response: ${issue?.path.join('.') || 'answer'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return answer.data;
}

export class OAuthError extends CliError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export async function startDeviceAuthorization(
  url: string,
  client: ClientCredentials,
  scopes: readonly string[],
  options: { realm?: string | undefined; fetch?: typeof fetch } = {},
): Promise<DeviceAuthorization> {
  const form = new URLSearchParams({ scope: scopes.join(' ') });
  const headers = clientAuth(client, form);
  const { status, body } = await call(options.fetch ?? fetch, withRealm(url, options.realm), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: form.toString(),
  });
  if (status !== 200 || typeof body.device_code !== 'string')
    throw new CliError(oauthErrorMessage(body, status));
  return body as unknown as DeviceAuthorization;
}

/**
 * Polls the token endpoint until the user approved the device code (RFC 8628 section 3.5):
 * `authorization_pending` waits, `slow_down` adds five seconds, anything else ends it.
 */
export async function pollDeviceToken(
  tokenUrl: string,
  client: ClientCredentials,
  device: DeviceAuthorization,
  options: {
    realm?: string | undefined;
    fetch?: typeof fetch;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
  } = {},
): Promise<TokenResponse> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  let interval = (device.interval ?? 5) * 1000;
  const deadline = now() + device.expires_in * 1000;
  while (now() < deadline) {
    await sleep(interval);
    try {
      return await requestToken(
        tokenUrl,
        { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code },
        client,
        options,
      );
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.code === 'authorization_pending') continue;
      if (error.code === 'slow_down') {
        interval += 5000;
        continue;
      }
      if (error.code === 'access_denied') throw new CliError('the login was denied in the browser');
      if (error.code === 'expired_token')
        throw new CliError('the code expired before it was approved; run the command again');
      throw error;
    }
  }
  throw new CliError('the code expired before it was approved; run the command again');
}
