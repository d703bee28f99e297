/** The STUPS realms. Tokens carry them as `/employees` and `/services`. */
export type Realm = 'employees' | 'services';

export const REALMS: readonly Realm[] = ['employees', 'services'];

/** `/employees` or `employees` → `employees`; anything else is undefined. */
export function parseRealm(value: string | undefined | null): Realm | undefined {
  const name = value?.replace(/^\//, '');
  return name === 'employees' || name === 'services' ? name : undefined;
}

/** Who is calling, established from a verified access token. */
export interface Principal {
  uid: string;
  realm: Realm;
  scopes: ReadonlySet<string>;
  /** The OAuth client the token was issued to, when known. */
  clientId: string | undefined;
  grantType: string | undefined;
  issuer: string;
  /** `jti` of the token, used for revocation. */
  tokenId: string | undefined;
  expiresAt: Date;
}

export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.has(scope);
}

/** The claims our token service writes into JWT access tokens (RFC 9068 plus STUPS fields). */
export interface StupsAccessTokenClaims {
  iss: string;
  sub: string;
  /** `/employees` or `/services`. */
  realm: string;
  /** Space-separated scopes. */
  scope: string;
  client_id?: string;
  grant_type?: string;
  jti: string;
  iat: number;
  exp: number;
  aud?: string | string[];
}
