import { z } from 'zod';

/*
 * What other components (mint, the console, the CLIs) share with the token service:
 * the shapes of service users, clients and the protocol answers.
 */

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export const GRANT_TYPES = [
  'password',
  'client_credentials',
  'authorization_code',
  'refresh_token',
  DEVICE_CODE_GRANT,
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * RFC 7591 §2 `implicit`: a client with it may ask the authorization endpoint for an access token
 * directly (`response_type=token`), as the browser login of STUPS-era clients does. Legacy: only
 * towards loopback redirect URIs, and never a grant of the token endpoint.
 */
export const IMPLICIT_GRANT = 'implicit';

/** What a client may be allowed: the token endpoint's grants and the legacy implicit flow. */
export const CLIENT_GRANT_TYPES = [...GRANT_TYPES, IMPLICIT_GRANT] as const;
export type ClientGrantType = (typeof CLIENT_GRANT_TYPES)[number];

/**
 * Algorithms a client may have its ID tokens signed with (OIDC Registration
 * `id_token_signed_response_alg`). RS256 is the default there and the one OIDC Discovery
 * requires every provider to offer; ES256 is this token service's own (access-token) default.
 */
export const ID_TOKEN_SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;
export type IdTokenSigningAlgorithm = (typeof ID_TOKEN_SIGNING_ALGORITHMS)[number];

export const RealmNameSchema = z.enum(['employees', 'services']);

/** RFC 6749 §3.3 scope-token. */
export const ScopeSchema = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be an OAuth scope token');

/** Service users authenticate in the `/services` realm; mint creates and rotates them. */
export const ServiceUserInputSchema = z.strictObject({
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'lowercase letters, digits, ".", "_", "-"'),
  /** Required when the user is created; omitted on update keeps the current password. */
  password: z.string().min(12).optional(),
  scopes: z.array(ScopeSchema).default([]),
  applicationId: z.string().min(1).nullable().optional(),
  teamId: z.string().min(1).nullable().optional(),
  disabled: z.boolean().optional(),
});
export type ServiceUserInput = z.input<typeof ServiceUserInputSchema>;

/** What an administrator may change on a service user; omitted fields stay. */
export const ServiceUserChangeSchema = z.strictObject({
  scopes: z.array(ScopeSchema).optional(),
  applicationId: z.string().min(1).nullable().optional(),
  teamId: z.string().min(1).nullable().optional(),
  disabled: z.boolean().optional(),
});
export type ServiceUserChange = z.input<typeof ServiceUserChangeSchema>;

export interface ServiceUser {
  username: string;
  scopes: string[];
  applicationId: string | null;
  teamId: string | null;
  disabled: boolean;
}

export const OAuthClientInputSchema = z.strictObject({
  clientId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, ".", "_", ":", "-"'),
  name: z.string().min(1).optional(),
  /** Public clients (CLIs, browser apps) have no secret and must use PKCE. */
  type: z.enum(['public', 'confidential']),
  /** Required when a confidential client is created; omitted on update keeps the current secret. */
  secret: z.string().min(16).optional(),
  realms: z.array(RealmNameSchema).min(1),
  grantTypes: z.array(z.enum(CLIENT_GRANT_TYPES)).min(1),
  redirectUris: z.array(z.url()).default([]),
  /** Scopes the client may request; null: whatever the realm allows the user. */
  scopes: z.array(ScopeSchema).nullable().default(null),
  disabled: z.boolean().optional(),
  /** Algorithm of its ID tokens; RS256 when not named, as OIDC Registration §2 says. */
  idTokenSignedResponseAlg: z.enum(ID_TOKEN_SIGNING_ALGORITHMS).default('RS256'),
});
export type OAuthClientInput = z.input<typeof OAuthClientInputSchema>;

/** What an administrator may change on a client; its type and secret stay (rotate for a new secret). */
export const OAuthClientChangeSchema = z.strictObject({
  name: z.string().min(1).optional(),
  realms: z.array(RealmNameSchema).min(1).optional(),
  grantTypes: z.array(z.enum(CLIENT_GRANT_TYPES)).min(1).optional(),
  redirectUris: z.array(z.url()).optional(),
  scopes: z.array(ScopeSchema).nullable().optional(),
  disabled: z.boolean().optional(),
  idTokenSignedResponseAlg: z.enum(ID_TOKEN_SIGNING_ALGORITHMS).optional(),
});
export type OAuthClientChange = z.input<typeof OAuthClientChangeSchema>;

export interface OAuthClient {
  clientId: string;
  name: string;
  type: 'public' | 'confidential';
  realms: Array<'employees' | 'services'>;
  grantTypes: ClientGrantType[];
  redirectUris: string[];
  scopes: string[] | null;
  disabled: boolean;
  idTokenSignedResponseAlg: IdTokenSigningAlgorithm;
}

/** RFC 6749 §5.1 answer of the token endpoint. */
export const TokenResponseSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/**
 * STUPS tokeninfo: fixed fields plus `"<scope>": true` for every granted scope (a scope
 * named like a fixed field keeps the field's own, truthy value).
 */
export const TokenInfoSchema = z
  .object({
    uid: z.string(),
    realm: z.enum(['/employees', '/services']),
    scope: z.array(z.string()),
    expires_in: z.number().int(),
    token_type: z.literal('Bearer'),
    grant_type: z.string(),
    access_token: z.string(),
    client_id: z.string(),
  })
  .catchall(z.unknown());
export type TokenInfo = z.infer<typeof TokenInfoSchema>;

/** RFC 7662 answer. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  sub?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  aud?: string | string[];
  jti?: string;
  realm?: string;
  grant_type?: string;
}

/** RFC 8628 §3.2 answer. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}
