import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { z } from 'zod';
import { StupsError } from '../errors.js';

/*
 * Service tokens as STUPS applications get them (python `tokens`, Java `tokens`): mint's files in
 * `CREDENTIALS_DIR` (kept current by berry), the password grant against `OAUTH2_ACCESS_TOKEN_URL`
 * with the service user's name and password and HTTP Basic client authentication. The files are
 * read on every refresh, never cached, so rotated credentials are used as soon as berry wrote them.
 */

const UserFileSchema = z.looseObject({
  application_username: z.string().min(1),
  application_password: z.string().min(1),
});
const ClientFileSchema = z.looseObject({
  client_id: z.string().min(1),
  // mint writes `null` for public clients.
  client_secret: z.string().min(1).nullable(),
});

/** The two files as one value; never logged. */
export interface ServiceCredentials {
  username: string;
  password: string;
  clientId: string;
  clientSecret: string | null;
}

export type ServiceTokenFailure =
  /** `user.json` or `client.json` missing or malformed. */
  | 'credentials'
  /** The token service refused the grant (`invalid_grant`, `invalid_client`, `invalid_scope` …). */
  | 'rejected'
  /** No answer: refused, DNS, timeout. */
  | 'unreachable'
  /** An answer that is not a token. */
  | 'invalid_answer';

export class ServiceTokenError extends StupsError {
  constructor(
    readonly failure: ServiceTokenFailure,
    message: string,
    /** The OAuth `error` of a refusal, e.g. `invalid_grant`. */
    readonly oauthError?: string,
    options?: { cause?: unknown },
  ) {
    super(`SERVICE_TOKEN_${failure.toUpperCase()}`, message, options);
  }
}

function errnoCode(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

async function readCredentialsFile<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ServiceTokenError('credentials', `cannot read ${file}: ${errnoCode(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ServiceTokenError('credentials', `${file} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    // Names the field only: the value may be a secret.
    const field = parsed.error.issues[0]?.path.join('.') ?? 'content';
    throw new ServiceTokenError('credentials', `${file}: ${field} is missing or not a string`);
  }
  return parsed.data;
}

/** Reads `user.json` and `client.json` from a credentials folder (berry's `DIR`). */
export async function readServiceCredentials(dir: string): Promise<ServiceCredentials> {
  const user = await readCredentialsFile(join(dir, 'user.json'), UserFileSchema);
  const client = await readCredentialsFile(join(dir, 'client.json'), ClientFileSchema);
  return {
    username: user.application_username,
    password: user.application_password,
    clientId: client.client_id,
    clientSecret: client.client_secret,
  };
}

const TokenAnswerSchema = z.looseObject({
  access_token: z.string().min(1),
  // RFC 6749 §5.1 only recommends it; STUPS tokens lived an hour.
  expires_in: z.coerce.number().positive().optional().default(3600),
  scope: z.string().optional(),
});
export type ServiceTokenAnswer = z.output<typeof TokenAnswerSchema>;

const OAuthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
});

/** RFC 6749 §2.3.1: client id and secret are form-encoded before Basic; the same bytes for mint's URL-safe secrets. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * One password grant: `grant_type=password&username&password&scope` (space-joined), Basic
 * `client_id:client_secret` (a public client sends `client_id` in the form instead).
 */
export async function requestServiceToken(
  tokenUrl: string,
  credentials: ServiceCredentials,
  scopes: readonly string[],
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<ServiceTokenAnswer> {
  const form = new URLSearchParams({
    grant_type: 'password',
    username: credentials.username,
    password: credentials.password,
    scope: scopes.join(' '),
  });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (credentials.clientSecret === null) form.set('client_id', credentials.clientId);
  else {
    const basic = `${formEncode(credentials.clientId)}:${formEncode(credentials.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  const origin = new URL(tokenUrl).origin;
  let response: Response;
  let text: string;
  try {
    response = await (options.fetch ?? fetch)(tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    text = await response.text();
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    throw new ServiceTokenError(
      'unreachable',
      `cannot reach the token service at ${origin}: ${errnoCode(cause)}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServiceTokenError(
      'invalid_answer',
      `the token service at ${origin} answered ${response.status} with something that is not JSON`,
    );
  }
  if (!response.ok) {
    const oauth = OAuthErrorSchema.safeParse(body);
    const error = oauth.success ? oauth.data.error : `HTTP ${response.status}`;
    const description =
      oauth.success && oauth.data.error_description ? `: ${oauth.data.error_description}` : '';
    throw new ServiceTokenError(
      'rejected',
      // The OAuth error first, as zign prints refusals; then whose grant it was (never the secret).
      `${error}${description} (password grant for ${credentials.username}, client ${credentials.clientId})`,
      oauth.success ? oauth.data.error : undefined,
    );
  }
  const answer = TokenAnswerSchema.safeParse(body);
  if (!answer.success) {
    throw new ServiceTokenError(
      'invalid_answer',
      `the token service at ${origin} answered 200 without an access token`,
    );
  }
  return answer.data;
}

/** `OAUTH2_ACCESS_TOKENS=name=token,…`: tokens pinned without any call, as the STUPS libraries allow. */
export function parsePinnedTokens(value: string | undefined): Map<string, string> {
  const pinned = new Map<string, string>();
  for (const pair of (value ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) pinned.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return pinned;
}

export interface ServiceTokensOptions {
  /** berry's folder with `user.json` and `client.json` (`CREDENTIALS_DIR`); only pinned tokens without it. */
  credentialsDir?: string | undefined;
  /** The token endpoint, realm included (`OAUTH2_ACCESS_TOKEN_URL`, e.g. `…/oauth2/access_token?realm=/services`). */
  tokenUrl?: string | undefined;
  /** Refresh this long before expiry (python `tokens`: 20 minutes); at most half a token's lifetime. */
  refreshBeforeSeconds?: number;
  /**
   * After a refused grant (`invalid_grant`/`invalid_client`) with files berry has not replaced yet,
   * wait this long and read them again before the one retry: berry writes `user.json` and
   * `client.json` one after the other.
   */
  retryDelayMs?: number;
  timeoutMs?: number;
  pinned?: ReadonlyMap<string, string>;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Managed {
  scopes: readonly string[];
  token?: { accessToken: string; expiresAt: number; refreshAt: number };
  inFlight?: Promise<string>;
}

const RETRYABLE = new Set(['invalid_grant', 'invalid_client']);

function sameCredentials(a: ServiceCredentials, b: ServiceCredentials): boolean {
  return (
    a.username === b.username &&
    a.password === b.password &&
    a.clientId === b.clientId &&
    a.clientSecret === b.clientSecret
  );
}

/**
 * Named service tokens, as python `tokens` manages them: `manage(name, scopes)`, then `get(name)`
 * whenever one is needed. A token is reused until shortly before it expires; a refresh that fails
 * while the old token is still valid keeps the old one (and tries again on the next `get`).
 */
export class ServiceTokens {
  private readonly managed = new Map<string, Managed>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ServiceTokensOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => sleepFor(ms));
  }

  manage(name: string, scopes: readonly string[]): this {
    const current = this.managed.get(name);
    if (!current || current.scopes.join(' ') !== scopes.join(' '))
      this.managed.set(name, { scopes: [...scopes] });
    return this;
  }

  /** A valid access token for `name`, from the cache or a fresh grant. */
  async get(name: string): Promise<string> {
    const pinned = this.options.pinned?.get(name);
    if (pinned !== undefined) return pinned;
    const entry = this.managed.get(name);
    if (!entry) throw new StupsError('SERVICE_TOKEN_UNKNOWN', `no service token "${name}" is managed`);
    const now = this.now();
    if (entry.token && now < entry.token.refreshAt) return entry.token.accessToken;
    try {
      return await this.refresh(name);
    } catch (error) {
      // A still-valid token beats a failed refresh: the service keeps working while mint, berry or
      // the token service recover.
      if (entry.token && this.now() < entry.token.expiresAt) return entry.token.accessToken;
      throw error;
    }
  }

  /** Gets a new token for `name` now, whatever the cache holds; concurrent calls share one grant. */
  refresh(name: string): Promise<string> {
    const entry = this.managed.get(name);
    if (!entry)
      return Promise.reject(new StupsError('SERVICE_TOKEN_UNKNOWN', `no service token "${name}" is managed`));
    entry.inFlight ??= this.grant(entry).finally(() => {
      entry.inFlight = undefined;
    });
    return entry.inFlight;
  }

  private async grant(entry: Managed): Promise<string> {
    const { credentialsDir, tokenUrl } = this.options;
    if (!credentialsDir || !tokenUrl) {
      throw new ServiceTokenError(
        'credentials',
        `service tokens need both CREDENTIALS_DIR and OAUTH2_ACCESS_TOKEN_URL (${credentialsDir ? 'OAUTH2_ACCESS_TOKEN_URL' : 'CREDENTIALS_DIR'} is not set)`,
      );
    }
    const request = (credentials: ServiceCredentials) =>
      requestServiceToken(tokenUrl, credentials, entry.scopes, {
        fetch: this.options.fetch,
        timeoutMs: this.options.timeoutMs,
      });
    const used = await readServiceCredentials(credentialsDir);
    let answer: ServiceTokenAnswer;
    try {
      answer = await request(used);
    } catch (error) {
      if (!(error instanceof ServiceTokenError) || !RETRYABLE.has(error.oauthError ?? '')) throw error;
      // The files may have been rotated since they were read, or be half-way (user.json new,
      // client.json not yet): read them again, after a moment when they have not changed.
      let fresh = await readServiceCredentials(credentialsDir);
      if (sameCredentials(fresh, used)) {
        await this.sleep(this.options.retryDelayMs ?? 1000);
        fresh = await readServiceCredentials(credentialsDir);
      }
      answer = await request(fresh);
    }
    const issuedAt = this.now();
    const lifetimeMs = answer.expires_in * 1000;
    const earlyMs = Math.min((this.options.refreshBeforeSeconds ?? 20 * 60) * 1000, lifetimeMs / 2);
    entry.token = {
      accessToken: answer.access_token,
      expiresAt: issuedAt + lifetimeMs,
      refreshAt: issuedAt + lifetimeMs - earlyMs,
    };
    return answer.access_token;
  }
}

/**
 * The STUPS environment: `CREDENTIALS_DIR`, `OAUTH2_ACCESS_TOKEN_URL` and `OAUTH2_ACCESS_TOKENS`
 * (pinned tokens); undefined when none is set. With only pinned tokens, asking for another name
 * fails with a message naming the missing variable.
 */
export function serviceTokensFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: Omit<ServiceTokensOptions, 'credentialsDir' | 'tokenUrl' | 'pinned'> = {},
): ServiceTokens | undefined {
  const credentialsDir = env.CREDENTIALS_DIR || undefined;
  const tokenUrl = env.OAUTH2_ACCESS_TOKEN_URL || undefined;
  const pinned = parsePinnedTokens(env.OAUTH2_ACCESS_TOKENS);
  if (!credentialsDir && !tokenUrl && pinned.size === 0) return undefined;
  return new ServiceTokens({ ...options, credentialsDir, tokenUrl, pinned });
}
