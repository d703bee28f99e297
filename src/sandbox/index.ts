import { createAudit } from '../platform/audit/create-audit.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { UserDirectory } from '../users/contract.js';
import type { SandboxAwsClients } from './aws/account-clients.js';
import { SANDBOX_EVENTS } from './events.js';
import { registerSandboxRoutes } from './routes.js';
import { type SandboxPolicy, SandboxService } from './sandbox-service.js';
import { type SandboxSettings, SandboxSettingsSchema } from './settings.js';
import type { CostSource, ForecastSource } from './spend/types.js';
import { SandboxStore } from './store.js';
import type { ReportBucket } from './reports/report-bucket.js';

export * from './contract.js';
export { SANDBOX_EVENTS, type SandboxAuditEvent } from './events.js';
export { sandboxMigrations } from './migrations.js';
export { SandboxSettingsSchema, type SandboxSettings } from './settings.js';

export interface SandboxComponent {
  service: SandboxService;
  store: SandboxStore;
  /** The HTTP app (not listening): `/accounts…`, `/incidents`, `/status`, health, OpenAPI. */
  createApp(): Promise<HttpApp>;
}

/** Creates the sandbox service over the kernel's context. Run `sandboxMigrations` first. */
export function createSandboxComponent(
  ctx: ServiceContext,
  deps: {
    policy: SandboxPolicy;
    users: Pick<UserDirectory, 'getUser'>;
    aws?: SandboxAwsClients | undefined;
    settings?: Partial<SandboxSettings>;
    now?: () => Date;
    costs?: CostSource | undefined;
    forecasts?: ForecastSource | undefined;
    reports?: ReportBucket;
  },
): SandboxComponent {
  const settings = SandboxSettingsSchema.parse(deps.settings ?? {});
  const store = new SandboxStore(ctx.database);
  const audit = createAudit(ctx.auditLog, 'sandbox', SANDBOX_EVENTS);
  const service = new SandboxService({
    store,
    audit,
    policy: deps.policy,
    users: deps.users,
    aws: deps.aws,
    settings,
    logger: ctx.logger.child({ component: 'sandbox' }),
    now: deps.now,
    costs: deps.costs,
    forecasts: deps.forecasts,
    reports: deps.reports,
  });
  return {
    service,
    store,
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'sandbox',
        title: 'sandbox accounts API',
        description: 'Personal AWS accounts that budget, purge and report themselves',
      });
      registerSandboxRoutes(app, { service, verifier: ctx.verifier, audit });
      return app;
    },
  };
}
