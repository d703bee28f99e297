import type { JWK } from 'jose';
import {
  type AuthorizationRequest,
  authorizeWithSession,
  completeAuthorization,
  loginEmployee,
  validateAuthorizationRequest,
} from './authorization.js';
import {
  type DeviceAuthorizationResponse,
  ID_TOKEN_SIGNING_ALGORITHMS,
  IMPLICIT_GRANT,
  type IntrospectionResponse,
  type OAuthClient,
  type TokenInfo,
  type TokenResponse,
} from './contract.js';
import type { TokenServiceCore } from './core.js';
import type { OAuthError } from './oauth-error.js';
import { decideDevice, startDeviceAuthorization } from './device-flow.js';
import type { ClientCredentials, OAuthParams } from './params.js';
import { handleTokenRequest, type RequestMeta } from './token-endpoint.js';
import {
  endSession,
  type LogoutRequest,
  logoutRedirect,
  recordRefusedLogout,
  validateLogoutRequest,
} from './end-session.js';
import type { SignInSession } from './session-store.js';
import { currentSession, signIn } from './sign-in-session.js';

/**
 * The token service's domain as its routes see it: one operation per protocol step, no stores,
 * no HTTP types. `core` (the stores and settings the protocol modules share) stays behind it.
 */
export interface OAuthServer {
  /** `iss` of every token: the service's public base URL. */
  readonly issuer: string;
  /** The client Zign 1.0's GET token request is made for. */
  readonly legacyClientId: string;
  /** Every algorithm a client may choose for its ID tokens, RS256 first (OIDC Discovery requires it). */
  readonly idTokenSigningAlgorithms: readonly string[];
  /** Cache-Control max-age of the JWKS; new keys are pre-published at least this long. */
  readonly jwksCacheSeconds: number;
  readonly employeeScopes: readonly string[];
  /** Origins whose browser apps may call the endpoints (`*`: the public documents only). */
  readonly corsAllowedOrigins: readonly string[];
  /** Whether some enabled client may use the legacy implicit flow (`response_type=token`). */
  offersImplicitFlow(): Promise<boolean>;
  token(
    params: OAuthParams,
    credentials: ClientCredentials | undefined,
    meta: RequestMeta,
  ): Promise<TokenResponse>;
  authenticateClient(credentials: ClientCredentials, source: string): Promise<OAuthClient>;
  tokenInfo(token: string): Promise<TokenInfo>;
  /** `tokenInfo` serialised (the tokeninfo route's answer), remembered for the next asks. */
  tokenInfoJson(token: string): Promise<string>;
  /** The remembered `tokenInfoJson` when it can be given without waiting, else undefined. */
  cachedTokenInfoJson(token: string): string | undefined;
  introspect(token: string, hint: string | undefined, client: OAuthClient): Promise<IntrospectionResponse>;
  revoke(token: string, hint: string | undefined, client: OAuthClient, requestId: string): Promise<void>;
  /** Records a revocation refused before anything changed (e.g. the client failed to authenticate). */
  recordRefusedRevocation(clientId: string | undefined, error: OAuthError, requestId: string): Promise<void>;
  userInfo(token: string): Promise<Record<string, string>>;
  jwks(): Promise<{ keys: JWK[] }>;
  validateAuthorization(params: OAuthParams): Promise<AuthorizationRequest>;
  loginEmployee(
    username: string | undefined,
    password: string | undefined,
    page: string,
    meta: RequestMeta,
  ): Promise<{ uid: string } | { error: string }>;
  completeAuthorization(
    request: AuthorizationRequest,
    uid: string,
    requestId: string,
    authTime: Date,
    sessionIdHash: string | null,
  ): Promise<string>;
  /** The browser's sign-in session by the id in its cookie, if it still counts. */
  currentSession(sessionId: string | undefined): Promise<SignInSession | undefined>;
  /** Where the session alone sends the browser (a code), or undefined: the login page must ask. */
  authorizeWithSession(
    request: AuthorizationRequest,
    session: SignInSession | undefined,
    requestId: string,
  ): Promise<string | undefined>;
  /** A new session after a password sign-in (the previous id is deleted, never reused). */
  signIn(
    uid: string,
    previousId: string | undefined,
    meta: { requestId: string; clientId: string },
  ): Promise<{ id: string; session: SignInSession; maxAgeSeconds: number }>;
  validateLogout(params: OAuthParams): Promise<LogoutRequest>;
  /** Ends the session; returns the user it belonged to. */
  endSession(
    request: LogoutRequest,
    sessionId: string | undefined,
    requestId: string,
  ): Promise<string | undefined>;
  recordRefusedLogout(reason: string, requestId: string): Promise<void>;
  logoutRedirect(request: LogoutRequest): string | undefined;
  startDeviceAuthorization(
    params: OAuthParams,
    credentials: ClientCredentials | undefined,
    meta: RequestMeta,
  ): Promise<DeviceAuthorizationResponse>;
  decideDevice(
    userCode: string,
    uid: string,
    approve: boolean,
    requestId: string,
    via?: 'password' | 'session',
  ): Promise<boolean>;
}

export function createOAuthServer(core: TokenServiceCore): OAuthServer {
  return {
    issuer: core.issuer,
    legacyClientId: core.config.legacyClientId,
    idTokenSigningAlgorithms: ID_TOKEN_SIGNING_ALGORITHMS,
    jwksCacheSeconds: core.config.jwksCacheSeconds,
    employeeScopes: core.config.employeeScopes,
    corsAllowedOrigins: core.config.corsAllowedOrigins,
    offersImplicitFlow: async () =>
      (await core.clients.listClients()).some(
        (client) => !client.disabled && client.grantTypes.includes(IMPLICIT_GRANT),
      ),
    token: (params, credentials, meta) => handleTokenRequest(core, params, credentials, meta),
    authenticateClient: (credentials, source) => core.clients.authenticate(credentials, source),
    tokenInfo: (token) => core.inspector.tokenInfo(token),
    tokenInfoJson: (token) => core.inspector.tokenInfoJson(token),
    cachedTokenInfoJson: (token) => core.inspector.cachedTokenInfoJson(token),
    introspect: (token, hint, client) => core.inspector.introspect(token, hint, client),
    revoke: (token, hint, client, requestId) => core.inspector.revoke(token, hint, client, requestId),
    recordRefusedRevocation: (clientId, error, requestId) =>
      core.audit.standalone({
        event: 'token-service.token.revoke',
        actor: { uid: clientId ?? 'anonymous' },
        outcome: 'refused',
        details: { client_id: clientId, error: error.error, reason: error.detail ?? error.message },
        requestId,
      }),
    userInfo: (token) => core.inspector.userInfo(token),
    jwks: () => core.keys.publicJwks(),
    validateAuthorization: (params) => validateAuthorizationRequest(core, params),
    loginEmployee: (username, password, page, meta) => loginEmployee(core, username, password, page, meta),
    completeAuthorization: (request, uid, requestId, authTime, sessionIdHash) =>
      completeAuthorization(core, request, uid, requestId, authTime, sessionIdHash),
    currentSession: (sessionId) => currentSession(core, sessionId),
    authorizeWithSession: (request, session, requestId) =>
      authorizeWithSession(core, request, session, requestId),
    signIn: (uid, previousId, meta) => signIn(core, uid, previousId, meta),
    validateLogout: (params) => validateLogoutRequest(core, params),
    endSession: (request, sessionId, requestId) => endSession(core, request, sessionId, requestId),
    recordRefusedLogout: (reason, requestId) => recordRefusedLogout(core, reason, requestId),
    logoutRedirect,
    startDeviceAuthorization: (params, credentials, meta) =>
      startDeviceAuthorization(core, params, credentials, meta),
    decideDevice: (userCode, uid, approve, requestId, via) =>
      decideDevice(core, userCode, uid, approve, requestId, via),
  };
}
