import type { Generated } from 'kysely';

/*
 * The token service's own tables. No other component reads them: they ask through
 * the service object (`isRevoked`, the client and service-user stores) instead.
 */

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: unknown;
  /** Private JWK: a compact JWE when a key encryption secret is configured, else the JWK JSON. */
  private_jwk: string;
  created_at: Date;
  /** When a newer key took over signing; tokens it signed stay verifiable until they expire. */
  retired_at: Date | null;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  /** scrypt hash; null for public clients. */
  secret_hash: string | null;
  realms: unknown;
  grant_types: unknown;
  redirect_uris: unknown;
  /** Scopes the client may request; null means whatever the realm allows. */
  scopes: unknown;
  disabled: boolean;
  /** OIDC `id_token_signed_response_alg` (RS256 or ES256). */
  id_token_signed_response_alg: Generated<string>;
  /** The secret before the last overlapping rotation; accepted until `previous_secret_valid_until`. */
  previous_secret_hash: Generated<string | null>;
  /** Null with a previous hash: valid until the rotation retires it. */
  previous_secret_valid_until: Generated<Date | null>;
  created_at: Generated<Date>;
  updated_at: Date;
}

export interface ServiceUsersTable {
  username: string;
  password_hash: string;
  scopes: unknown;
  application_id: string | null;
  team_id: string | null;
  disabled: boolean;
  /** The password before the last overlapping rotation; accepted until `previous_password_valid_until`. */
  previous_password_hash: Generated<string | null>;
  /** Null with a previous hash: valid until the rotation retires it. */
  previous_password_valid_until: Generated<Date | null>;
  created_at: Generated<Date>;
  updated_at: Date;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  redirect_uri: string | null;
  uid: string;
  scopes: unknown;
  code_challenge: string;
  nonce: string | null;
  auth_time: Date;
  expires_at: Date;
  used_at: Date | null;
  /** Family of the tokens issued for this code, revoked if the code is presented twice. */
  family_id: string | null;
  /** The access token issued for this code, revoked with the family (clients without refresh). */
  access_jti: string | null;
  access_expires_at: Date | null;
  /** RFC 8707 resources of the authorization request (JSON list), null when none were named. */
  resources: unknown;
  /** `token_sessions.id_hash` of the sign-in session that issued the code; null without one. */
  session_id_hash: string | null;
}

export interface DeviceCodesTable {
  device_code_hash: string;
  user_code: string;
  client_id: string;
  scopes: unknown;
  /** pending | approved | denied | consumed */
  status: string;
  uid: string | null;
  expires_at: Date;
  interval_seconds: number;
  last_polled_at: Date | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  client_id: string;
  uid: string;
  realm: string;
  scopes: unknown;
  grant_type: string;
  /** The access token issued together with this refresh token, revoked with the family. */
  access_jti: string;
  access_expires_at: Date;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
  /** The sign-in session whose code started the family (its `id_hash`): sign-out revokes it. */
  session_id_hash: string | null;
}

export interface RevokedTokensTable {
  jti: string;
  /** The revocation matters only until the token expires; then the row is deleted. */
  expires_at: Date;
  revoked_at: Date;
}

export interface SessionsTable {
  /** Digest of the random id in the browser's cookie; the id itself is never stored. */
  id_hash: string;
  uid: string;
  /** When the password was checked (`auth_time`). */
  auth_time: Date;
  /** For the idle timeout; updated at most once a minute. */
  last_used_at: Date;
  /** Absolute end, whatever the use. */
  expires_at: Date;
}

/** A self-signed certificate for an RS256 signing key, published in SAML metadata. */
export interface SamlCertificatesTable {
  kid: string;
  certificate_pem: string;
  created_at: Date;
}

export interface TokenServiceTables {
  token_signing_keys: SigningKeysTable;
  token_saml_certificates: SamlCertificatesTable;
  token_clients: ClientsTable;
  token_service_users: ServiceUsersTable;
  token_authorization_codes: AuthorizationCodesTable;
  token_device_codes: DeviceCodesTable;
  token_refresh_tokens: RefreshTokensTable;
  token_revocations: RevokedTokensTable;
  token_sessions: SessionsTable;
}
