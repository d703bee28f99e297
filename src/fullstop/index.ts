import { createAudit } from '../platform/audit/create-audit.js';
import { type ServiceApplications, TeamPolicy } from '../platform/authz/team-policy.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { AccessGrantDirectory } from '../even/contract.js';
import type { ApplicationDirectory } from '../kio/contract.js';
import type { ImageTagDirectory } from '../pierone/contract.js';
import type { AwsAccount, TeamDirectory } from '../teams/contract.js';
import type { AccountAwsClients, InstanceCatalog, SubnetCatalog } from './aws/account-clients.js';
import type { ImageCatalog } from './aws/images.js';
import { FULLSTOP_EVENTS } from './events.js';
import { registerExportRoutes } from './exports/routes.js';
import { CloudTrailIngestion } from './ingestion.js';
import { PeriodicChecks } from './periodic/runner.js';
import { registerRiskAcceptanceRoutes } from './risk-acceptances/routes.js';
import { RiskAcceptanceService } from './risk-acceptances/service.js';
import { RiskAcceptanceStore } from './risk-acceptances/store.js';
import { registerWhitelistingRuleRoutes } from './risk-acceptances/whitelisting-rules.js';
import { registerFullstopRoutes } from './routes.js';
import { FullstopRunningImages } from './running-instances.js';
import type { RuleSettings } from './settings.js';
import { FullstopStore } from './store.js';
import { ViolationTrend } from './trend.js';
import { ViolationService } from './violations.js';

export * from './contract.js';
export { fullstopMigrations } from './migrations.js';
export { FULLSTOP_EVENTS, type FullstopEvent } from './events.js';
export { CloudTrailIngestion, FolderSource, type CloudTrailSource } from './ingestion.js';
export { PERIODIC_CHECKS, RULES, VIOLATION_TYPES } from './rules/index.js';
export { PeriodicChecks, type PeriodicOutcome } from './periodic/runner.js';
export { FullstopRunningImages } from './running-instances.js';

export interface FullstopService {
  createApp(): Promise<HttpApp>;
  violations: ViolationService;
  ingestion: CloudTrailIngestion;
  acceptances: RiskAcceptanceService;
  store: FullstopStore;
  /** Which Pier One images run (launched, user data seen, not terminated): contract `runningImages`. */
  runningImages: FullstopRunningImages;
  /** The periodic checks over the accounts `accounts` lists, read through `clients`, in `regions`. */
  periodicChecks(deps: {
    accounts: { listAccounts(): Promise<AwsAccount[]> };
    clients: { for(account: string, region: string): Promise<AccountAwsClients> };
    regions: readonly string[];
    clock?: () => Date;
    concurrency?: number | undefined;
  }): PeriodicChecks;
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
    /** Pier One's tags (the platform rules over Taupage's `source`). */
    imageTags: ImageTagDirectory;
    /** even's grants (SSH logins in instance audit logs). */
    accessGrants: AccessGrantDirectory;
    rules: RuleSettings;
    /** Subnet look-ups (EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP); without them that rule fails when it needs one. */
    subnets?: SubnetCatalog | undefined;
    /** Instance look-ups (the instance rules on StartInstances); without them those rules fail when they need one. */
    instances?: InstanceCatalog | undefined;
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
  const settings: RuleSettings = {
    ...deps.rules,
    // Unset: the registry host is the one Pier One runs at on this platform.
    pieroneHosts: deps.rules.pieroneHosts.length ? deps.rules.pieroneHosts : [new URL(ctx.urls.pierone).host],
  };
  const rules = {
    settings,
    images: deps.images,
    applications: deps.applications,
    imageTags: deps.imageTags,
    accessGrants: deps.accessGrants,
    subnets: deps.subnets,
    instances: deps.instances,
    // The platform's accounts are those a team owns (CROSS_ACCOUNT_ROLE).
    accounts: {
      isPlatformAccount: async (account: string) => (await deps.teams.teamOfAccount(account)) !== undefined,
    },
  };
  const violations = new ViolationService(store, { teams: deps.teams, policy, audit, rules });
  const trend = new ViolationTrend(ctx.database, deps.teams);
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
    runningImages: new FullstopRunningImages(ctx.database),
    periodicChecks: (periodic) =>
      new PeriodicChecks(store, { ...periodic, settings, audit, logger: ctx.logger }),
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'fullstop',
        title: 'fullstop. API',
        description: 'Violations of the platform rules, found in CloudTrail and Taupage logs',
      });
      registerFullstopRoutes(app, { violations, trend, verifier: ctx.verifier, audit });
      registerRiskAcceptanceRoutes(app, { acceptances, verifier: ctx.verifier, audit });
      registerWhitelistingRuleRoutes(app, { acceptances, teams: deps.teams, verifier: ctx.verifier, audit });
      registerExportRoutes(app, { store, verifier: ctx.verifier });
      return app;
    },
  };
}
