import type { Principal } from '../platform/auth/principal.js';
import type { ServiceApplications } from '../platform/authz/team-policy.js';
import { cachedPrincipalCheck } from '../platform/auth/principal-status.js';
import type { TrustedIssuer } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { UserDirectory } from '../users/contract.js';
import type { AuditActor } from '../platform/audit/create-audit.js';
import { createTokenServiceAudit } from './audit.js';
import { AuthorizationCodeStore } from './authorization-code-store.js';
import { ClientStore } from './client-store.js';
import { resolveTokenServiceConfig, type TokenServiceConfig } from './config.js';
import {
  DEVICE_CODE_GRANT,
  IMPLICIT_GRANT,
  type OAuthClient,
  type OAuthClientInput,
  type ServiceUser,
  type ServiceUserInput,
} from './contract.js';
import type { TokenServiceCore } from './core.js';
import { Csrf } from './csrf.js';
import { DeviceCodeStore } from './device-code-store.js';
import { KeyStore } from './key-store.js';
import { RefreshTokenStore } from './refresh-token-store.js';
import { RevocationStore } from './revocation-store.js';
import { createOAuthServer } from './oauth-server.js';
import { tokenServiceRoutes } from './routes.js';
import { registerAdminRoutes } from './admin-routes.js';
import type { AwsAccountDirectory } from './aws/aws-roles.js';
import { registerAwsRoutes } from './aws/routes.js';
import { oidcProviderHostOf } from './aws/settings.js';
import { ServiceUserStore } from './service-user-store.js';
import { SessionStore } from './session-store.js';
import type { TokenServiceTables as TablesOf } from './tables.js';
import { TokenInspector } from './token-inspector.js';
import { GuessThrottle } from '../platform/auth/guess-throttle.js';
import { TokenMinter } from './token-minter.js';

export interface TokenServiceDeps {
  users: UserDirectory;
  /** Teams and their AWS accounts (the team service), for `/aws/*`; without it those routes are absent. */
  awsAccounts?: AwsAccountDirectory | undefined;
  config?: TokenServiceConfig;
  /** Clock in milliseconds; tests move it to expire codes and rotate keys without sleeping. */
  now?: () => number;
}

/** What `stups up` wires: the HTTP app, the issuer other services trust, and the admin stores. */
export interface TokenService {
  /** The Fastify app (not listening). Seeds built-in clients and the first signing key on first call. */
  createApp(): Promise<HttpApp>;
  /** Trust it with `ctx.verifier.trust(service.trustedIssuer)`; keys come from the database key store. */
  readonly trustedIssuer: TrustedIssuer;
  /** For `TokenVerifier`'s `isRevoked` option: true for revoked access tokens. */
  isRevoked(jti: string): Promise<boolean>;
  /**
   * For `TokenVerifier`'s `isDisabled` option: true when the principal of a token is a disabled
   * employee or service user (or an employee of our issuer who no longer exists). Cached for
   * `principalStatusCacheSeconds`.
   */
  isDisabled(principal: Principal): Promise<boolean>;
  upsertClient(input: OAuthClientInput, actor?: AuditActor): Promise<OAuthClient>;
  getClient(clientId: string): Promise<OAuthClient | undefined>;
  upsertServiceUser(input: ServiceUserInput, actor?: AuditActor): Promise<ServiceUser>;
  disableServiceUser(username: string, actor?: AuditActor): Promise<void>;
  getServiceUser(username: string): Promise<ServiceUser | undefined>;
  /**
   * Rotation with overlap (mint): the new password becomes current, the current one stays valid
   * until `keepPreviousUntil` (null: until `retirePreviousServiceUserPassword`). Repeating an
   * unfinished rotation (previous generation without an end) replaces only the current password.
   */
  rotateServiceUserPassword(
    username: string,
    newPassword: string,
    keepPreviousUntil: Date | null,
    actor?: AuditActor,
  ): Promise<void>;
  /** The previous password stays valid until `at` (at once when `at` is not ahead). */
  retirePreviousServiceUserPassword(username: string, at: Date, actor?: AuditActor): Promise<void>;
  /** As `rotateServiceUserPassword`, for a confidential client's secret. */
  rotateClientSecret(
    clientId: string,
    newSecret: string,
    keepPreviousUntil: Date | null,
    actor?: AuditActor,
  ): Promise<void>;
  /** The previous client secret stays valid until `at` (at once when `at` is not ahead). */
  retirePreviousClientSecret(clientId: string, at: Date, actor?: AuditActor): Promise<void>;
  /**
   * The `serviceUserDirectory` contract TeamPolicy reads: the stored application of a service
   * user of this issuer; undefined for principals of other issuers and for OAuth clients acting
   * as themselves (client_credentials), which keep the STUPS rule uid = application id.
   */
  readonly serviceApplications: ServiceApplications;
  /** Administration of service users (org file seeding, admin API). */
  readonly serviceUserStore: ServiceUserStore;
  /** Administration of OAuth clients (admin API). */
  readonly clientStore: ClientStore;
  /** Seeds built-in clients and makes sure a signing key exists; idempotent, run by createApp. */
  ready(): Promise<void>;
  /**
   * Rotates the signing key when due and deletes expired keys, codes and tokens. The kernel's job
   * runner calls it (the `token-service.maintenance` job of `module.ts`), one replica at a time.
   */
  maintain(): Promise<void>;
}

/**
 * The token service: OAuth2/OIDC authorization server of the STUPS platform, with realms
 * `/employees` (checked against the user directory) and `/services` (service users kept here).
 */
export function createTokenService(ctx: ServiceContext, deps: TokenServiceDeps): TokenService {
  const config = resolveTokenServiceConfig(deps.config);
  const now = deps.now ?? Date.now;
  const issuer = ctx.urls['token-service'];
  const logger = ctx.logger.child({ component: 'token-service' });
  const db = ctx.database.kysely<TablesOf>();
  const audit = createTokenServiceAudit(ctx.auditLog);

  const guessLimits = {
    perSource: config.maxFailedLoginsPerSource,
    perAccount: config.maxFailedLoginsPerAccount,
    windowMs: config.failedLoginWindowSeconds * 1000,
  };
  const clients = new ClientStore(
    db,
    audit,
    now,
    new GuessThrottle(
      ctx.database,
      'token-service.clients',
      { ...guessLimits, perAccountAndSource: config.maxFailedClientAuthentications },
      now,
    ),
  );
  const serviceUsers = new ServiceUserStore(db, audit, now, ctx.database.changes);
  const keys = new KeyStore(db, config, audit, now, logger);
  const codes = new AuthorizationCodeStore(db, config.authorizationCodeLifetimeSeconds * 1000, now);
  const refreshTokens = new RefreshTokenStore(db, config.refreshTokenLifetimeSeconds * 1000, now);
  const devices = new DeviceCodeStore(
    db,
    config.deviceCodeLifetimeSeconds * 1000,
    config.devicePollIntervalSeconds,
    now,
  );
  const sessions = new SessionStore(
    db,
    { lifetimeMs: config.sessionLifetimeSeconds * 1000, idleMs: config.sessionIdleTimeoutSeconds * 1000 },
    now,
  );
  const revocations = new RevocationStore(
    db,
    config.revocationRefreshSeconds * 1000,
    now,
    ctx.metrics.cacheLookups,
    ctx.database.changes,
  );
  // RFC 9068 §4: only JWTs typed as access tokens are access tokens (not ID tokens, same keys).
  const isDisabled = cachedPrincipalCheck(
    async (principal) => {
      if (principal.realm === 'employees') {
        const user = await deps.users.getUser(principal.uid);
        // Employees of external IdPs need not be in the directory; ours always are.
        return user ? user.disabled : principal.issuer === issuer;
      }
      const serviceUser = await serviceUsers.getServiceUser(principal.uid);
      if (serviceUser) return serviceUser.disabled;
      // A deleted service user of ours is refused like a disabled one; a client acting as itself
      // (client_credentials) never was a service user, and other issuers' services are not ours.
      return principal.issuer === issuer && principal.grantType !== 'client_credentials';
    },
    {
      ttlMs: config.principalStatusCacheSeconds * 1000,
      now,
      lookups: ctx.metrics.cacheLookups,
      changes: ctx.database.changes,
    },
  );
  const audience = config.accessTokenAudience ?? issuer;
  // Every service's verifier requires the platform audience: a token issued for another resource
  // server (RFC 8707) is not valid here. See ADR 0008.
  const trustedIssuer: TrustedIssuer = {
    issuer,
    keys: keys.getKey,
    requiredType: 'at+jwt',
    audience,
    acceptMissingAudienceIssuedBefore: config.tokensWithoutAudienceIssuedBefore
      ? new Date(config.tokensWithoutAudienceIssuedBefore)
      : undefined,
  };
  const minter = new TokenMinter(issuer, audience, config, keys, refreshTokens, deps.users, now);
  const inspector = new TokenInspector(
    trustedIssuer,
    refreshTokens,
    revocations,
    isDisabled,
    deps.users,
    audit,
    db,
    now,
    ctx.metrics.cacheLookups,
  );
  const core: TokenServiceCore = {
    issuer,
    audience,
    config,
    now,
    logger,
    audit,
    db,
    users: deps.users,
    clients,
    serviceUsers,
    keys,
    codes,
    refreshTokens,
    devices,
    revocations,
    sessions,
    minter,
    inspector,
    // In the database: replicas count failures together (one statement per failure).
    logins: new GuessThrottle(
      ctx.database,
      'token-service.logins',
      { ...guessLimits, perAccountAndSource: config.maxFailedLogins },
      now,
    ),
  };
  const csrf = new Csrf(config.csrfSecret);

  let readiness: Promise<void> | undefined;
  const ready = () => {
    readiness ??= (async () => {
      if (config.seedBuiltInClients)
        await seedBuiltInClients(clients, config.zignRedirectUris, config.consoleRedirectUris);
      // Every algorithm gets its first key now (an upgrade adds the RS256 key next to the ES256 one).
      await keys.rotateIfDue();
      await keys.signingKey();
      if (!keys.encryptsAtRest) {
        logger.warn(
          'token-service.keyEncryptionSecret is not set: private signing keys are stored unencrypted',
        );
      }
    })().catch((error: unknown) => {
      readiness = undefined;
      throw error;
    });
    return readiness;
  };

  const maintain = async () => {
    await keys.rotateIfDue();
    await keys.deleteExpiredKeys();
    await codes.deleteExpired(audit);
    await devices.deleteExpired(audit);
    await refreshTokens.deleteExpired(audit);
    await revocations.deleteExpired(audit);
    await sessions.deleteExpired(audit);
  };

  const serviceApplications: ServiceApplications = {
    async applicationOf(principal) {
      if (principal.realm !== 'services' || principal.issuer !== issuer) return undefined;
      const serviceUser = await serviceUsers.getServiceUser(principal.uid);
      return serviceUser ? { applicationId: serviceUser.applicationId } : undefined;
    },
  };

  return {
    trustedIssuer,
    serviceApplications,
    serviceUserStore: serviceUsers,
    clientStore: clients,
    isRevoked: (jti) => revocations.isRevoked(jti),
    isDisabled,
    upsertClient: (input, actor) => clients.upsertClient(input, actor),
    getClient: (clientId) => clients.getClient(clientId),
    upsertServiceUser: (input, actor) => serviceUsers.upsertServiceUser(input, actor),
    disableServiceUser: (username, actor) => serviceUsers.disableServiceUser(username, actor),
    getServiceUser: (username) => serviceUsers.getServiceUser(username),
    rotateServiceUserPassword: (username, newPassword, keepPreviousUntil, actor) =>
      serviceUsers.rotatePasswordWithOverlap(username, newPassword, keepPreviousUntil, actor),
    retirePreviousServiceUserPassword: (username, at, actor) =>
      serviceUsers.retirePreviousPassword(username, at, actor),
    rotateClientSecret: (clientId, newSecret, keepPreviousUntil, actor) =>
      clients.rotateSecretWithOverlap(clientId, newSecret, keepPreviousUntil, actor),
    retirePreviousClientSecret: (clientId, at, actor) => clients.retirePreviousSecret(clientId, at, actor),
    ready,
    maintain,
    async createApp() {
      await ready();
      const app = await createServiceApp(ctx, {
        service: 'token-service',
        title: 'STUPS Token Service',
        description: 'OAuth2 / OpenID Connect authorization server with the STUPS realms and tokeninfo',
        healthCheck: async () => {
          await keys.publicJwks();
        },
      });
      const oauthServer = createOAuthServer(core);
      await app.register(tokenServiceRoutes(oauthServer, csrf));
      registerAdminRoutes(app, {
        verifier: ctx.verifier,
        adminPolicy: ctx.adminPolicy,
        audit,
        serviceUsers,
        clients,
      });
      if (deps.awsAccounts) {
        registerAwsRoutes(app, {
          verifier: ctx.verifier,
          audit,
          db,
          keys,
          issuer,
          now,
          settings: config.aws,
          roles: {
            accounts: deps.awsAccounts,
            adminPolicy: ctx.adminPolicy,
            roleMapping: config.aws.roleMapping,
            oidcProviderHost: config.aws.oidcProviderHost ?? oidcProviderHostOf(issuer),
          },
          browser: {
            currentSession: (id) => oauthServer.currentSession(id),
            loginEmployee: (...login) => oauthServer.loginEmployee(...login),
            signIn: (...started) => oauthServer.signIn(...started),
            csrf,
            // The console's "Sign in" buttons post the IdP-initiated form from its origin.
            formOrigins: config.consoleRedirectUris.flatMap((uri) => {
              try {
                return [new URL(uri).origin];
              } catch {
                return [];
              }
            }),
          },
        });
      }
      return app;
    },
  };
}

/**
 * `zign` (the CLI) and `console` (the web UI) are public clients every installation has. They are
 * created on first start only: later changes by operators (redirect URIs, scopes, disabling) survive
 * restarts; the configured redirect URIs are added when missing.
 */
async function seedBuiltInClients(
  clients: ClientStore,
  zignRedirectUris: string[],
  consoleRedirectUris: string[],
): Promise<void> {
  await clients.seedBuiltIn({
    clientId: 'zign',
    name: 'Zign (command line)',
    type: 'public',
    realms: ['employees'],
    // `implicit`: the browser login of STUPS-era clients (legacy; loopback redirects only).
    grantTypes: ['authorization_code', 'password', 'refresh_token', DEVICE_CODE_GRANT, IMPLICIT_GRANT],
    redirectUris: zignRedirectUris,
    scopes: null,
  });
  await clients.seedBuiltIn({
    clientId: 'console',
    name: 'STUPS console',
    type: 'public',
    realms: ['employees'],
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: consoleRedirectUris,
    scopes: null,
  });
}
