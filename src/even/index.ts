import { createAudit } from '../platform/audit/create-audit.js';
import { TeamPolicy } from '../platform/authz/team-policy.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { JobDefinition } from '../platform/jobs/job-runner.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { UserDirectory } from '../users/contract.js';
import { AccessGranting, type ExpiryRun } from './access-granting.js';
import { type BastionClient, SshBastionClient } from './bastion-client.js';
import { type EvenConfig, type EvenConfigInput, parseEvenConfig } from './config.js';
import type { AccessGrantDirectory } from './contract.js';
import { EVEN_EVENTS } from './events.js';
import { HostPolicy } from './host-policy.js';
import { registerEvenRoutes } from './routes.js';
import { AccessRequestStore } from './store.js';

export { AccessGranting, type ExpiryRun, SYSTEM_ACTOR } from './access-granting.js';
export { type BastionClient, BastionError, type CommandResult, SshBastionClient } from './bastion-client.js';
export { EvenSettingsSchema, type EvenSettings } from './settings.js';
export {
  type AllowedHost,
  type EvenConfig,
  type EvenConfigInput,
  EvenConfigSchema,
  parseEvenConfig,
} from './config.js';
export * from './contract.js';
export { EVEN_EVENTS, type EvenEvent } from './events.js';
export { grantCommand, revokeCommand } from './forced-command.js';
export { type BastionTarget, compileHostnameTemplate, HostPolicy } from './host-policy.js';
export { generateEvenKeyPair } from './keys.js';
/** even's tables: `migrateToLatest(db, [{ component: 'even', migrations: evenMigrations }])`. */
export { evenMigrations } from './migrations.js';
export { AccessRequestStore } from './store.js';

export interface EvenServiceDeps {
  teams: TeamDirectory;
  users: UserDirectory;
  /** See `EvenConfigSchema` for every field and its default. */
  config: EvenConfigInput;
  /** Replaces the SSH client (tests). */
  bastion?: BastionClient;
  /** Replaces the clock (tests). */
  clock?: () => Date;
}

export interface EvenService {
  config: EvenConfig;
  granting: AccessGranting;
  /** The `accessGrants` contract: grants as other components read them. */
  grants: AccessGrantDirectory;
  /** Builds even's HTTP app (not listening). */
  createApp(): Promise<HttpApp>;
  /**
   * Every `expiryCheckIntervalMs`, grants that ran out are marked and revoked on their bastion;
   * run by the kernel's job runner (`stups up`), once per tick across replicas.
   */
  expiryJob: JobDefinition;
  /** Closes SSH connections to bastions (after the job runner stopped). */
  stop(): Promise<void>;
  /** One round of the expiry job now (tests, operators). */
  expireDue(now?: Date): Promise<ExpiryRun>;
}

/**
 * even, the SSH access granting service. Run `evenMigrations` first. Team membership comes
 * from `deps.teams`, public keys from `deps.users`; bastions are reached over SSH with
 * `config.ssh.privateKey`. Throws ConfigError listing every configuration problem.
 */
export function createEvenService(ctx: ServiceContext, deps: EvenServiceDeps): EvenService {
  const config = parseEvenConfig(deps.config);
  const logger = ctx.logger.child({ service: 'even' });
  const store = new AccessRequestStore(ctx.database);
  const bastion =
    deps.bastion ??
    new SshBastionClient({
      user: config.ssh.user,
      privateKey: config.ssh.privateKey,
      knownHostKeys: config.ssh.knownHostKeys,
      acceptAnyHostKey: config.ssh.acceptAnyHostKey,
      connectTimeoutMs: config.ssh.connectTimeoutMs,
      commandTimeoutMs: config.ssh.commandTimeoutMs,
      idleTimeoutMs: config.ssh.idleTimeoutMs,
      maxConnectionsPerHost: config.ssh.maxConnectionsPerHost,
    });
  const audit = createAudit(ctx.auditLog, 'even', EVEN_EVENTS);
  const granting = new AccessGranting({
    store,
    teams: deps.teams,
    users: deps.users,
    policy: new HostPolicy(config, config.ssh.port),
    bastion,
    audit,
    // even asks only who is an employee and who administers; services act for no team here.
    teamPolicy: new TeamPolicy({
      teams: deps.teams,
      applications: { getApplication: async () => undefined },
      adminPolicy: ctx.adminPolicy,
    }),
    logger,
    defaultLifetimeMinutes: config.defaultLifetimeMinutes,
    maxLifetimeMinutes: config.maxLifetimeMinutes,
    clock: deps.clock ?? (() => new Date()),
  });

  const expireRound = async () => {
    const run = await granting.expireDue();
    if (run.expired.length)
      logger.info({ expired: run.expired.length, revoked: run.revoked }, 'grants expired');
    for (const failure of run.failures) logger.warn({ failure }, 'revocation failed');
  };

  return {
    config,
    granting,
    grants: { grantsBetween: (...args) => store.grantsBetween(...args) },
    expireDue: (now) => granting.expireDue(now),
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'even',
        title: 'even',
        description: 'STUPS SSH access granting service',
      });
      registerEvenRoutes(app, { granting, verifier: ctx.verifier, audit });
      return app;
    },
    expiryJob: { name: 'even.grant-expiry', intervalMs: config.expiryCheckIntervalMs, run: expireRound },
    async stop() {
      await bastion.close();
    },
  };
}
