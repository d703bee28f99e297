import { resolve } from 'node:path';
import v8 from 'node:v8';
import { AuditLog } from '../platform/audit/audit-log.js';
import { auditMigrations } from '../platform/audit/migrations.js';
import { ADMIN_SCOPE } from '../platform/auth/http-auth.js';
import { authMigrations } from '../platform/auth/migrations.js';
import { externalIssuer, TokenVerifier } from '../platform/auth/token-verifier.js';
import { ContractRegistry } from '../platform/contracts.js';
import { dataDirSecret } from '../platform/data-dir-secrets.js';
import { type Database, databaseOptionsFrom, openDatabase } from '../platform/db/database.js';
import { type ComponentMigrations, migrateToLatest, migrationsFingerprint } from '../platform/db/migrate.js';
import { ConfigError } from '../platform/errors.js';
import {
  type JobDefinition,
  type JobObserver,
  JobRunner,
  type Scheduler,
} from '../platform/jobs/job-runner.js';
import { jobMigrations } from '../platform/jobs/migrations.js';
import type { Logger } from '../platform/logger.js';
import { createMetrics } from '../platform/metrics.js';
import { Counter, type Registry } from 'prom-client';
import type { ModuleContext, ServiceInstance } from '../platform/service-module.js';
import { PORT_BLOCK_SIZE, type ServiceName } from '../platform/service-context.js';
import { lockDataDir } from './data-dir-lock.js';
import { freePortBlock } from './free-ports.js';
import { runtimeMigrations } from './migrations.js';
import { MODULES } from './modules.js';
import { type LoadedOrg, loadOrgFile } from './org-file.js';
import { portOf, serviceUrls, usesTls } from './platform-config.js';
import { seedOrg } from './seed-org.js';
import type { StupsSettings } from './settings.js';
import { loadOrCreateCertificate } from './tls.js';
import { fromProjectRoot } from '../platform/project-root.js';

/** Where every service tells the CLIs the URLs of all services. */
export const STUPS_DISCOVERY_PATH = '/.well-known/stups-configuration';

/** The demo organisation shipped with the platform. */
export const DEMO_ORG_FILE = fromProjectRoot('config', 'demo-org.yaml');

/** Every migration: the kernel's, then each module's; the same list on PGlite and PostgreSQL. */
export const ALL_MIGRATIONS: ComponentMigrations[] = [
  { component: 'audit', migrations: auditMigrations },
  { component: 'jobs', migrations: jobMigrations },
  { component: 'auth', migrations: authMigrations },
  { component: 'stups', migrations: runtimeMigrations },
  ...MODULES.flatMap((m) => m.migrations),
];

export interface RunningPlatform {
  urls: Record<ServiceName, string>;
  /** Services that are listening in this process. */
  listening: ServiceName[];
  database: Database['kind'];
  org: LoadedOrg;
  /** Whether `org` is the built-in demo organisation (its passwords are public anyway). */
  isDemoOrg: boolean;
  /** Path of the certificate when serving HTTPS. */
  certFile: string | undefined;
  /** Lines each listening service wants shown beside its URL. */
  notes: Partial<Record<ServiceName, string[]>>;
  /** Runs the background jobs of the listening services. */
  jobs: JobRunner;
  /** Names of the jobs scheduled in this process (those of the listening services). */
  jobNames: string[];
  /**
   * Runs one of those jobs now, outside its schedule and tick claim (tests drive a job this way
   * instead of waiting for its interval). Safe because every job is: a run may meet another
   * replica's run of the same job.
   */
  runJob(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the platform: every module (`stups up`) or only one (`stups serve <service>`), on
 * the same database and the same migrations either way. Every module is created (later ones
 * read earlier ones' contracts); only the selected ones listen and run their jobs.
 */
export async function startPlatform(
  settings: StupsSettings,
  options: {
    logger: Logger;
    only?: ServiceName | undefined;
    port?: number | undefined;
    /** Replaces the job runner's timers (tests). */
    scheduler?: Scheduler;
  },
): Promise<RunningPlatform> {
  const { logger } = options;
  const config = settings.platform;
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'));
    }
    cleanups.length = 0;
  };
  try {
    if (options.only && !MODULES.some((m) => m.name === options.only)) {
      throw new ConfigError([
        `service ${options.only} is not available yet; available: ${MODULES.map((m) => m.name).join(', ')}`,
      ]);
    }
    const orgFile = config.orgFile ?? DEMO_ORG_FILE;
    const org = await loadOrgFile(orgFile);

    const effective =
      config.basePort === 0
        ? { ...config, basePort: await freePortBlock(PORT_BLOCK_SIZE, config.host) }
        : config;
    const urls = serviceUrls(effective);

    const databaseOptions = databaseOptionsFrom(config.databaseUrl, `${config.dataDir}/db`);
    // Only the embedded database lives in the data directory; PostgreSQL replicas share theirs.
    if (databaseOptions.kind === 'pglite') {
      cleanups.push(await lockDataDir(config.dataDir));
      // PGlite's PostgreSQL runs on V8's baseline WebAssembly compiler only. By default V8 compiles
      // its 9 MB a second time with TurboFan on background threads once it runs, and the main
      // thread stalls 100–200 ms waiting on that right after the database opens. Measured, paired
      // (issue 23): restart 1,677 → 1,567 ms and 238 → 196 MiB RSS, new data directory
      // 4.3 → 3.3 s and ~300 → 248 MiB; warm statements are 10–20 % slower in a micro-benchmark,
      // within the noise of every Pier One row. Must precede the first compile: PGlite's, below.
      v8.setFlagsFromString('--liftoff-only');
    }
    const database = await openDatabase(
      databaseOptions.kind === 'pglite'
        ? { ...databaseOptions, schemaTemplate: migrationsFingerprint(ALL_MIGRATIONS) }
        : { ...databaseOptions, poolSize: config.databasePoolSize },
    );
    cleanups.push(() => database.destroy());
    await migrateToLatest(database, ALL_MIGRATIONS);
    // The first new data directory of this version keeps its schema for the next ones.
    await database.keepSchemaTemplate();

    let tls: { cert: string; key: string } | undefined;
    let certFile: string | undefined;
    if (usesTls(effective)) {
      const loaded = await loadOrCreateCertificate({
        certFile: config.tlsCert,
        keyFile: config.tlsKey,
        dataDir: config.dataDir,
        hostNames: [new URL(urls['token-service']).hostname, config.host],
      });
      tls = { cert: loaded.cert, key: loaded.key };
      certFile = loaded.certFile;
    }

    const contracts = new ContractRegistry();
    // The token service module is created after the verifier; revocation checks reach it through its contract.
    const verifierContracts = contracts.readerFor('token verifier');
    const metrics = createMetrics();
    countChangeFeed(database, metrics.registry);
    const verifier = new TokenVerifier({
      cacheLookups: metrics.cacheLookups,
      issuers: config.externalIssuers.map((i) => externalIssuer(i)),
      isRevoked: (jti) => verifierContracts.find('tokenRevocation')?.isRevoked(jti) ?? Promise.resolve(false),
      isDisabled: (principal) =>
        verifierContracts.find('tokenRevocation')?.isDisabled(principal) ?? Promise.resolve(false),
    });
    const ctx: ModuleContext = {
      logger,
      metrics,
      database,
      verifier,
      auditLog: new AuditLog(database, logger),
      adminPolicy: { adminUids: new Set(org.org.admins), adminScope: ADMIN_SCOPE },
      urls,
      tls,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      shutdownGraceMs: config.shutdownGraceSeconds * 1000,
      dataDir: config.dataDir,
      // One installation secret; every replica derives the same keys from it, each for one purpose.
      installationSecret:
        config.keyEncryptionSecret ?? (await dataDirSecret(config.dataDir, 'key-encryption')),
      aws: config.aws,
    };

    const instances: Array<{ name: ServiceName; instance: ServiceInstance }> = [];
    for (const module of MODULES) {
      const instance = await module.create(ctx, {
        settings: settings.modules[module.name],
        contracts: contracts.readerFor(module.name),
      });
      if (instance.dispose) cleanups.push(instance.dispose);
      if (instance.provides) contracts.publish(module.name, instance.provides);
      instances.push({ name: module.name, instance });
    }

    const reader = contracts.readerFor('org seeding');
    // Seeding hashes the org's passwords on the thread pool (scrypt, 0.2–0.4 s for a new data
    // directory) while this thread builds the apps; nothing listens before it is done.
    const seeding = seedOrg(
      database,
      org,
      {
        teams: reader.get('teamStore'),
        users: reader.get('userStore'),
        applications: reader.get('applicationRegistry'),
        tokenService: reader.find('tokenService'),
      },
      logger,
      `${config.dataDir}/credentials`,
    );
    // Awaited below; until then a failure must not count as unhandled.
    seeding.catch(() => {});

    const selected = instances.filter(({ name }) => !options.only || options.only === name);
    const discovery = { services: Object.fromEntries(instances.map(({ name }) => [name, urls[name]])) };
    const apps: Array<{ name: ServiceName; app: Awaited<ReturnType<ServiceInstance['app']>> }> = [];
    try {
      for (const { name, instance } of selected) {
        const app = await instance.app();
        cleanups.push(() => app.close());
        // Any one service URL is enough for `stups configure` to find all the others.
        app.get(STUPS_DISCOVERY_PATH, { schema: { hide: true } }, async () => discovery);
        apps.push({ name, app });
      }
    } catch (error) {
      // The seeding is let finish before the database is closed under it; this error is the one.
      await seeding.catch(() => {});
      throw error;
    }
    await seeding;
    for (const { name, app } of apps) {
      const port = options.only && options.port !== undefined ? options.port : portOf(effective, name);
      try {
        await app.listen({ host: config.host, port });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new ConfigError([
            `port ${port} (${name}) is in use: is another stups running? Choose --base-port`,
          ]);
        }
        throw error;
      }
    }

    const jobs = new JobRunner(database, logger, {
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      observe: jobMetrics(metrics.registry),
    });
    const jobList: JobDefinition[] = selected.flatMap(({ instance }) => instance.jobs ?? []);
    jobs.start(jobList);
    // Registered last, so it runs first: jobs stop before the services they use are disposed.
    cleanups.push(() => jobs.stop());

    logger.info(
      { services: selected.map((s) => s.name), jobs: jobList.map((j) => j.name), database: database.kind },
      'platform started',
    );
    return {
      urls,
      listening: selected.map((s) => s.name),
      database: database.kind,
      org,
      isDemoOrg: resolve(orgFile) === DEMO_ORG_FILE,
      certFile,
      notes: Object.fromEntries(selected.map(({ name, instance }) => [name, instance.notes ?? []])),
      jobs,
      jobNames: jobList.map((j) => j.name),
      runJob: async (name) => {
        const job = jobList.find((j) => j.name === name);
        if (!job)
          throw new Error(`no job ${name} in this process (${jobList.map((j) => j.name).join(', ')})`);
        await job.run();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Background jobs on `/metrics`: each tick this process handled, by outcome. Across replicas the
 * `ran` counts of one job add up to one per tick (the others count `skipped`); `failed` is what
 * to alert on.
 */
function jobMetrics(registry: Registry): JobObserver {
  const ticks = new Counter({
    name: 'stups_job_ticks_total',
    help: 'Ticks of a background job handled by this process, by outcome (ran here, skipped: another replica or run had it, failed)',
    labelNames: ['job', 'outcome'],
    registers: [registry],
  });
  const seconds = new Counter({
    name: 'stups_job_run_seconds_total',
    help: 'Time this process spent running a background job (outcome ran or failed)',
    labelNames: ['job'],
    registers: [registry],
  });
  return (job, outcome, elapsed) => {
    ticks.inc({ job, outcome });
    if (outcome !== 'skipped') seconds.inc({ job }, elapsed);
  };
}

/** The change feed's counts on `/metrics`: notifications heard, and reconnects of its connection. */
function countChangeFeed(database: Database, registry: Registry): void {
  const notifications = new Counter({
    name: 'change_feed_notifications_total',
    help: 'Cache invalidations heard on the database change feed (LISTEN/NOTIFY)',
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'change_feed_reconnects_total',
    help: 'Reconnects of the change feed after its connection was lost (every cache dropped each time)',
    registers: [registry],
  });
  database.changes.countInto({ notification: () => notifications.inc(), reconnect: () => reconnects.inc() });
}
