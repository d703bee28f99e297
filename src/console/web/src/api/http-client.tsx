import type { ServiceName } from '../config';
import { ApiError, detailOf, plainMessage } from './api-error';

export interface TokenSource {
  /** A valid access token, refreshed when it is about to expire; undefined when signed out. */
  accessToken(): Promise<string | undefined>;
  /** Called on a 401 that a refresh could not cure. */
  expired(): void;
  /** Tries the refresh token once; true when a new access token is there. */
  refresh(): Promise<boolean>;
}

export interface RequestOptions {
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  body?: unknown;
  /** A plain-text body instead of JSON (fullstop reads a resolution comment as raw text). */
  text?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  /** Media types asked for (default JSON), e.g. the registry's manifest types. */
  accept?: string;
}

/** Calls the services through the console's same-origin proxy (`/api/<service>/…`). */
export class HttpClient {
  constructor(
    /** Base path of a service behind the console's proxy, e.g. `kio` → `/api/kio`. */
    private readonly baseOf: (service: ServiceName) => string,
    private readonly tokens: TokenSource,
  ) {}

  async request<T>(service: ServiceName, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(service, path, options);
    if (response.status === 401 && (await this.tokens.refresh())) {
      return this.finish<T>(service, await this.send(service, path, options));
    }
    return this.finish<T>(service, response);
  }

  get<T>(service: ServiceName, path: string, options: Omit<RequestOptions, 'method' | 'body'> = {}) {
    return this.request<T>(service, path, options);
  }

  put<T>(service: ServiceName, path: string, body: unknown) {
    return this.request<T>(service, path, { method: 'PUT', body });
  }

  post<T>(service: ServiceName, path: string, body: unknown) {
    return this.request<T>(service, path, { method: 'POST', body });
  }

  postText<T>(service: ServiceName, path: string, text: string) {
    return this.request<T>(service, path, { method: 'POST', text });
  }

  delete(service: ServiceName, path: string) {
    return this.request<undefined>(service, path, { method: 'DELETE' });
  }

  private async send(service: ServiceName, path: string, options: RequestOptions): Promise<Response> {
    const url = new URL(`${this.baseOf(service)}${path}`, location.origin);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    const token = await this.tokens.accessToken();
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.text !== undefined) {
      headers['content-type'] = 'text/plain; charset=utf-8';
      body = options.text;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    try {
      return await fetch(url, {
        method: options.method ?? 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(plainMessage(service, 0, undefined), 0, service);
    }
  }

  private async finish<T>(service: ServiceName, response: Response): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok) return body as T;
    if (response.status === 401) this.tokens.expired();
    const detail = detailOf(body);
    throw new ApiError(plainMessage(service, response.status, detail), response.status, service, detail);
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
