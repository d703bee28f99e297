import { OAuthError } from './oauth-error.js';

/** Request parameters of a protocol endpoint, each present at most once (RFC 6749 §3.1). */
export type OAuthParams = Readonly<Record<string, string>>;

/**
 * Parameters that may be given more than once: RFC 8707 §2 names one target per `resource`.
 * Their values are joined by spaces, which no URI contains.
 */
const REPEATABLE = new Set(['resource']);

/**
 * Merges query and body parameters. A parameter given twice (also once in the query and once
 * in the body) is an `invalid_request`, except the `REPEATABLE` ones; empty values count as
 * absent, as RFC 6749 §3.1 says.
 */
export function collectParams(...sources: unknown[]): OAuthParams {
  // No prototype: a parameter named `__proto__` or `constructor` is plain data, and `in` sees own names only.
  const params: Record<string, string> = {};
  Object.setPrototypeOf(params, null);
  for (const source of sources) {
    if (source === undefined || source === null || source === '') continue;
    if (typeof source !== 'object' || Array.isArray(source)) {
      throw new OAuthError('invalid_request', 'the request body must be a form or a JSON object');
    }
    for (const [name, raw] of Object.entries(source)) {
      if (raw === undefined || raw === null) continue;
      if (Array.isArray(raw) && REPEATABLE.has(name) && raw.every((v) => typeof v === 'string')) {
        const joined = raw.filter(Boolean).join(' ');
        if (joined !== '') params[name] = name in params ? `${params[name]} ${joined}` : joined;
        continue;
      }
      if (Array.isArray(raw)) throw new OAuthError('invalid_request', `parameter "${name}" is repeated`);
      if (typeof raw === 'object')
        throw new OAuthError('invalid_request', `parameter "${name}" must be a string`);
      const value = String(raw);
      if (value === '') continue;
      if (name in params && REPEATABLE.has(name)) {
        params[name] = `${params[name]} ${value}`;
        continue;
      }
      if (name in params) throw new OAuthError('invalid_request', `parameter "${name}" is repeated`);
      params[name] = value;
    }
  }
  return params;
}

/**
 * Parses `application/x-www-form-urlencoded`; repeated names become arrays (rejected later). A JSON
 * body is returned as parsed, whatever its shape: `collectParams` checks it like any other source.
 */
export function parseForm(body: string): unknown {
  // A JSON document sent with the form content type, as `curl -d @request.json` does in the STUPS docs.
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const document: unknown = JSON.parse(trimmed);
      return document;
    } catch {
      throw new OAuthError('invalid_request', 'the request body is neither a form nor valid JSON');
    }
  }
  const result: Record<string, string | string[]> = {};
  Object.setPrototypeOf(result, null);
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = result[name];
    result[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return result;
}

/** The value of a required parameter, or `invalid_request` naming it. */
export function required(params: OAuthParams, name: string): string {
  const value = params[name];
  if (value === undefined) throw new OAuthError('invalid_request', `parameter "${name}" is missing`);
  return value;
}

export interface BasicCredentials {
  username: string;
  password: string;
}

/**
 * `Authorization: Basic` user:password as Zign 1.0 sends an employee's password: percent-escapes
 * are decoded, `+` is not (Zign does not form-encode, and a password may contain `+`).
 */
export function parseBasic(header: string | undefined): BasicCredentials | undefined {
  const raw = rawBasic(header);
  return raw && { username: percentDecode(raw.username), password: percentDecode(raw.password) };
}

function rawBasic(header: string | undefined): BasicCredentials | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new OAuthError('invalid_request', 'malformed Basic credentials');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `application/x-www-form-urlencoded` decoding of one value: `+` is a space (RFC 6749 §2.3.1, Appendix B). */
function formDecode(value: string): string {
  return percentDecode(value.replace(/\+/g, ' '));
}

export interface ClientCredentials {
  clientId: string;
  secret: string | undefined;
  /** Sent as Basic; failures then carry a `WWW-Authenticate: Basic` challenge. */
  basic: boolean;
  /**
   * A Basic secret read literally (`+` kept), tried when `secret` (form-decoded as RFC 6749
   * §2.3.1 says) is wrong: STUPS clients have always sent secrets without form-encoding them.
   */
  literalSecret?: string | undefined;
}

/** Client credentials from Basic or the body (`client_id`, `client_secret`); never both (RFC 6749 §2.3). */
export function clientCredentials(
  params: OAuthParams,
  authorization: string | undefined,
): ClientCredentials | undefined {
  const raw = rawBasic(authorization);
  if (raw) {
    const basic = { username: formDecode(raw.username), password: formDecode(raw.password) };
    const literal = percentDecode(raw.password);
    if (params.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'client credentials must be sent in one way only');
    }
    if (params.client_id !== undefined && params.client_id !== basic.username) {
      throw new OAuthError('invalid_request', 'client_id differs from the Basic credentials');
    }
    return {
      clientId: basic.username,
      secret: basic.password,
      basic: true,
      ...(literal !== basic.password ? { literalSecret: literal } : {}),
    };
  }
  if (params.client_id === undefined) return undefined;
  return { clientId: params.client_id, secret: params.client_secret, basic: false };
}

/** Parameters that carry credentials; RFC 6749 §2.3.1 and §4.3.2 keep them out of URLs. */
const CREDENTIAL_PARAMS = ['client_secret', 'password'] as const;

/**
 * Refuses credentials in the URL query: URLs end up in proxy logs, browser history and
 * `Referer` headers. Only the parameter's name is named in the answer, never its value.
 */
export function refuseCredentialsInQuery(query: unknown): void {
  if (typeof query !== 'object' || query === null) return;
  for (const name of CREDENTIAL_PARAMS) {
    if (Object.hasOwn(query, name)) {
      throw new OAuthError('invalid_request', `parameter "${name}" must not be sent in the URL query`);
    }
  }
}
