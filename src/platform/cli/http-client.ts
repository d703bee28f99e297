import type { z } from 'zod';
import { CliError } from './cli-error.js';

export interface HttpClientOptions {
  baseUrl: string;
  /** Returns the bearer token to send, or undefined for anonymous calls. */
  token?: () => Promise<string | undefined>;
  fetch?: typeof fetch;
  /** Name of the service for messages, e.g. "Kio". */
  service: string;
}

/**
 * Why a fetch failed, in a word: `ECONNREFUSED`, `ENOTFOUND`, a TLS code… Node wraps the
 * socket error in `cause`, and for several addresses in an AggregateError inside it.
 */
export function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } })
    .cause;
  return (
    cause?.code ?? cause?.errors?.find((e) => e.code)?.code ?? cause?.message ?? (error as Error).message
  );
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
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach ${this.options.service} at ${this.options.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
    }
    return response;
  }

  /** Sends a request and parses JSON; non-2xx becomes an HttpError with the server's message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, body);
    const text = await response.text();
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
    return parsed as T;
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
    const answer = await this.json<unknown>(method, path, body);
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
