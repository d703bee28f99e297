import { OAuthError } from './oauth-error.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** RFC 6749 §3.3: space-delimited scope tokens; undefined when the parameter is absent or blank. */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = value.split(' ').filter(Boolean);
  if (scopes.length === 0) return undefined;
  const bad = scopes.find((s) => !SCOPE_TOKEN.test(s));
  if (bad !== undefined) throw new OAuthError('invalid_scope', `"${bad}" is not a valid scope name`);
  return [...new Set(scopes)];
}

/**
 * What a request naming scopes it may not have gets (RFC 6749 §3.3 leaves the choice to the
 * server): `narrow` grants the allowed ones and says so in the answer's `scope`; `refuse` answers
 * `invalid_scope`. Either way nothing outside the allowance is ever granted.
 */
export type UnallowedScopes = 'narrow' | 'refuse';

/**
 * The scopes to grant: the requested ones that are allowed, the defaults (those allowed) when
 * none were requested. With `refuse` (the default here; the endpoints pass the setting) anything
 * not allowed is an `invalid_scope` naming it; with `narrow` it is left out, and only a request
 * with nothing allowed left is refused.
 */
export function grantScopes(
  requested: string[] | undefined,
  allowed: ReadonlySet<string>,
  defaults: readonly string[],
  unallowed: UnallowedScopes = 'refuse',
): string[] {
  if (requested === undefined) {
    const granted = defaults.filter((s) => allowed.has(s));
    if (granted.length === 0)
      throw new OAuthError('invalid_scope', 'no scope was requested and there is no default');
    return granted;
  }
  const denied = requested.filter((s) => !allowed.has(s));
  if (denied.length > 0 && (unallowed === 'refuse' || denied.length === requested.length)) {
    throw new OAuthError('invalid_scope', `scope not allowed: ${denied.join(' ')}`);
  }
  return requested.filter((s) => allowed.has(s));
}

/**
 * Intersection of the realm's allowance and the client's (null: the client does not restrict).
 * `uid` is never restricted by the client: every STUPS token carries it.
 */
export function allowedScopes(
  realmAllows: Iterable<string>,
  clientAllows: readonly string[] | null,
): Set<string> {
  const realm = new Set(realmAllows);
  return clientAllows === null ? realm : new Set([...clientAllows, 'uid'].filter((s) => realm.has(s)));
}
