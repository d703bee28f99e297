import { createHmac } from 'node:crypto';
import type { JobDefinition } from '../platform/jobs/index.js';
import { defineModule } from '../platform/service-module.js';
import { tokenServiceMigrations } from './migrations.js';
import { TokenServiceSettingsSchema } from './settings.js';
import { createTokenService, type TokenService } from './token-service.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Whether an access token was revoked; every service's token verifier asks it. */
    tokenRevocation: Pick<TokenService, 'isRevoked' | 'isDisabled'>;
    /** Clients and service users, for administration and seeding. */
    tokenService: TokenService;
    /** Which application a service user of this issuer belongs to, for TeamPolicy (Kio, Pier One, …). */
    serviceUserDirectory: TokenService['serviceApplications'];
  }
}

/** The OAuth2/OIDC authorization server; every other service trusts the issuer it publishes. */
export const tokenServiceModule = defineModule({
  name: 'token-service',
  migrations: [{ component: 'token-service', migrations: tokenServiceMigrations }],
  settings: TokenServiceSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const tokens = createTokenService(ctx, {
      users: contracts.get('users'),
      // The team service's store: teams with members, and accounts with their `disabled` flag.
      awsAccounts: contracts.get('teamStore'),
      config: {
        ...settings,
        // The console's callback follows its URL, which only the runtime knows.
        consoleRedirectUris: [...settings.consoleRedirectUris, `${ctx.urls.console}/auth/callback`],
        corsAllowedOrigins: [...settings.corsAllowedOrigins, new URL(ctx.urls.console).origin],
        keyEncryptionSecret: ctx.installationSecret,
        csrfSecret: createHmac('sha256', ctx.installationSecret)
          .update('token-service csrf')
          .digest('base64url'),
      },
    });
    ctx.verifier.trust(tokens.trustedIssuer);
    // Seeds the built-in clients and the first signing keys. Started here, awaited by the token
    // service's app before it answers anything: the RSA key of a new installation takes
    // 0.2–0.8 s on a thread of its own, which the other modules' creation and the org seeding
    // now overlap instead of waiting for (issue 23). A failure is thrown again by the app, which
    // tries once more; a process that does not serve the token service only logs it.
    tokens.ready().catch((error: unknown) => {
      ctx.logger.error({ err: error, service: 'token-service' }, 'seeding clients and keys failed');
    });
    return {
      app: () => tokens.createApp(),
      provides: {
        tokenRevocation: tokens,
        tokenService: tokens,
        serviceUserDirectory: tokens.serviceApplications,
      },
      jobs: [maintenanceJob(tokens, settings.maintenanceIntervalSeconds)],
    };
  },
});

/**
 * Key rotation and clean-up, run by the kernel's job runner (one replica per tick); the token
 * service has no timer of its own. Tests call `run()` themselves with a moved clock.
 */
export function maintenanceJob(
  tokens: Pick<TokenService, 'maintain'>,
  intervalSeconds: number,
): JobDefinition {
  return {
    name: 'token-service.maintenance',
    intervalMs: intervalSeconds * 1000,
    run: () => tokens.maintain(),
  };
}
