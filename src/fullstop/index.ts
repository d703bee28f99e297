import { createAudit } from '../platform/audit/create-audit.js';
import { type ServiceApplications, TeamPolicy } from '../platform/authz/team-policy.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { ApplicationDirectory } from '../kio/contract.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { ImageCatalog } from './aws/images.js';
import { FULLSTOP_EVENTS } from './events.js';
import { registerExportRoutes } from './exports/routes.js';
import { CloudTrailIngestion } from './ingestion.js';
import { registerRiskAcceptanceRoutes } from './risk-acceptances/routes.js';
import { RiskAcceptanceService } from './risk-acceptances/service.js';
import { RiskAcceptanceStore } from './risk-acceptances/store.js';
import { registerFullstopRoutes } from './routes.js';
import type { RuleSettings } from './settings.js';
import { FullstopStore } from './store.js';
import { ViolationService } from './violations.js';

export * from './contract.js';
export { fullstopMigrations } from './migrations.js';
export { FULLSTOP_EVENTS, type FullstopEvent } from './events.js';
export { CloudTrailIngestion, FolderSource, type CloudTrailSource } from './ingestion.js';
export { RULES, VIOLATION_TYPES } from './rules/index.js';

export interface FullstopService {
  createApp(): Promise<HttpApp>;
  violations: ViolationService;
  ingestion: CloudTrailIngestion;
  acceptances: RiskAcceptanceService;
  store: FullstopStore;
}

/**
 * fullstop. over the kernel's context. Run `fullstopMigrations` first. Teams say which team owns
 * an account, Kio which applications exist, `images` what an AMI is.
 */
export function createFullstopService(
  ctx: ServiceContext,
  deps: {
    teams: TeamDirectory;
    applications: ApplicationDirectory;
    images: ImageCatalog;
    rules: RuleSettings;
    serviceApplications?: ServiceApplications | undefined;
    /** Default: acceptances live at most 365 days. */
    riskAcceptances?: { maxLifetimeDays: number } | undefined;
    /** What "now" is for acceptances (tests move it). */
    clock?: (() => Date) | undefined;
  },
): FullstopService {
  const store = new FullstopStore(ctx.database);
  const audit = createAudit(ctx.auditLog, 'fullstop', FULLSTOP_EVENTS);
  const policy = new TeamPolicy({
    teams: deps.teams,
    applications: deps.applications,
    adminPolicy: ctx.adminPolicy,
    serviceApplications: deps.serviceApplications,
  });
  const rules = { settings: deps.rules, images: deps.images, applications: deps.applications };
  const violations = new ViolationService(store, { teams: deps.teams, policy, audit, rules });
  const ingestion = new CloudTrailIngestion(store, { teams: deps.teams, rules, audit, logger: ctx.logger });
  const acceptances = new RiskAcceptanceService(new RiskAcceptanceStore(ctx.database), {
    teams: deps.teams,
    policy,
    audit,
    maxLifetimeDays: deps.riskAcceptances?.maxLifetimeDays ?? 365,
    clock: deps.clock,
  });
  return {
    violations,
    ingestion,
    acceptances,
    store,
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'fullstop',
        title: 'fullstop. API',
        description: 'Violations of the platform rules, found in CloudTrail and Taupage logs',
      });
      registerFullstopRoutes(app, { violations, verifier: ctx.verifier, audit });
      registerRiskAcceptanceRoutes(app, { acceptances, verifier: ctx.verifier, audit });
      registerExportRoutes(app, { store, verifier: ctx.verifier });
      return app;
    },
  };
}
