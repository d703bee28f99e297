import type { z } from 'zod';
import { CliError } from './cli-error.js';

export interface HttpClientOptions {
  baseUrl: string;
  /** Returns the bearer token to send, or undefined for anonymous calls. */
  token?: () => Promise<string | undefined>;
  fetch?: typeof fetch;
  /** Name of the service for messages, e.g. "Kio". */
  service: string;
  /**
   * Milliseconds a call may take, from connecting to the last byte of the answer (default
   * `DEFAULT_CLI_TIMEOUT_MS`). Without a bound, a service that accepts the connection and never
   * answers holds the CLI (and the script running it) forever.
   */
  timeoutMs?: number;
  /** How the user raises the bound, named in the timeout message, e.g. `KIO_TIMEOUT`. */
  timeoutSetting?: string;
}

/** Seconds a CLI call may take before it gives up (30 s: well above a loaded service's slowest answer). */
export const DEFAULT_CLI_TIMEOUT_MS = 30_000;

/** Reads a timeout in seconds from a tool's config value (`timeout: 10`), or the default. */
export function timeoutMsFrom(value: string | undefined, setting: string): number {
  if (value === undefined || value === '') return DEFAULT_CLI_TIMEOUT_MS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new CliError(`${setting} must be a number of seconds between 0 and 86400, not "${value}"`);
  }
  return seconds * 1000;
}

/**
 * Why a fetch failed, in a word: `ECONNREFUSED`, `ENOTFOUND`, a TLS code… Node wraps the
 * socket error in `cause`, and for several addresses in an AggregateError inside it.
 */
export function networkErrorCode(error: unknown): string {
  const cause = property(error, 'cause');
  const errors = property(cause, 'errors');
  const firstCode = Array.isArray(errors)
    ? errors.map((e) => text(property(e, 'code'))).find((code) => code !== undefined)
    : undefined;
  return (
    text(property(cause, 'code')) ??
    firstCode ??
    text(property(cause, 'message')) ??
    (error instanceof Error ? error.message : String(error))
  );
}

/** A property of an object (own or not, enumerable or not, as Error's `cause` is), else undefined. */
function property(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? Reflect.get(value, key) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A failed call, with what the server said in one line. */
export class HttpError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** Whether a fetch or body read failed because its AbortSignal.timeout ran out. */
function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function describeBody(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['detail', 'message', 'error_description', 'error', 'title']) {
      if (typeof b[key] === 'string' && b[key]) return b[key];
    }
    const first: unknown = Array.isArray(b.errors) ? b.errors[0] : undefined;
    if (first && typeof first === 'object' && 'message' in first && typeof first.message === 'string') {
      return first.message;
    }
  }
  if (typeof body === 'string' && body.trim()) return body.trim().split('\n')[0]!.slice(0, 300);
  return fallback;
}

/** JSON over HTTP for the CLIs: errors become one clear line naming the service and status. */
export class HttpClient {
  readonly #fetch: typeof fetch;
  constructor(private readonly options: HttpClientOptions) {
    this.#fetch = options.fetch ?? fetch;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  get #timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
  }

  /** The one line for a call that ran out of time: which service, how long, how to wait longer. */
  #timedOut(): CliError {
    const seconds = this.#timeoutMs / 1000;
    const hint = this.options.timeoutSetting ? ` (set ${this.options.timeoutSetting} to wait longer)` : '';
    return new CliError(
      `${this.options.service} at ${this.options.baseUrl} did not answer within ${seconds} s${hint}`,
    );
  }

  /**
   * Sends a request. The time bound covers the answer's body too: read it with `text()` or
   * `arrayBuffer()` here, or through `json`/`parsed`, which turn a timeout into one line.
   */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const token = await this.options.token?.();
    const url = `${this.options.baseUrl}${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        signal: AbortSignal.timeout(this.#timeoutMs),
        method,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    } catch (error) {
      if (isTimeout(error)) throw this.#timedOut();
      throw new CliError(
        `cannot reach ${this.options.service} at ${this.options.baseUrl}: ${networkErrorCode(error)}`,
      );
    }
    return response;
  }

  /** The body of an answer of `request`, with a timeout or a broken-off answer as one line. */
  async readText(response: Response): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      if (isTimeout(error)) throw this.#timedOut();
      throw new CliError(`${this.options.service} broke off its answer: ${networkErrorCode(error)}`);
    }
  }

  /**
   * Sends a request and parses JSON; non-2xx becomes an HttpError with the server's message. The
   * answer is `unknown`: read it through `parsed` (a schema), not by asserting a type onto it.
   */
  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.request(method, path, body);
    const text = await this.readText(response);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the message.
    }
    if (!response.ok) {
      const what = describeBody(parsed, response.statusText || 'request failed');
      throw new HttpError(
        `${this.options.service} answered ${response.status}: ${what}`,
        response.status,
        parsed,
      );
    }
    return parsed;
  }

  /**
   * Sends a request and checks the JSON answer against the contract's schema: a malformed answer
   * is one clear line and exit 1 rather than a crash somewhere in the rendering.
   */
  async parsed<S extends z.ZodType>(
    schema: S,
    what: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.output<S>> {
    const answer = await this.json(method, path, body);
    const result = schema.safeParse(answer);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length ? `${issue.path.join('.')}: ` : '';
      throw new CliError(
        `${this.options.service} answered something that is not ${what}: ${where}${issue?.message ?? 'invalid'}`,
      );
    }
    return result.data;
  }
}
