import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AuditLog } from '../platform/audit/audit-log.js';
import { auditMigrations } from '../platform/audit/migrations.js';
import { registerAuditRoutes } from '../platform/audit/routes.js';
import { ADMIN_SCOPE } from '../platform/auth/http-auth.js';
import { externalIssuer, TokenVerifier } from '../platform/auth/token-verifier.js';
import { type Database, databaseOptionsFrom, openDatabase } from '../platform/db/database.js';
import { type ComponentMigrations, migrateToLatest } from '../platform/db/migrate.js';
import { ConfigError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { Logger } from '../platform/logger.js';
import { createMetrics } from '../platform/metrics.js';
import { SERVICE_NAMES, type ServiceContext, type ServiceName } from '../platform/service-context.js';
import { createConsoleService } from '../console/index.js';
import { createEssentialsService, essentialsMigrations } from '../essentials/index.js';
import { createEvenService, evenMigrations, generateEvenKeyPair } from '../even/index.js';
import { createKioService, kioMigrations } from '../kio/index.js';
import { createPierOneService, parsePierOneConfig, pieroneMigrations } from '../pierone/index.js';
import {
  type BlobStore,
  createFilesystemBlobStore,
  createS3BlobStore,
} from '../platform/blob-store/index.js';
import { createTeamService, teamMigrations } from '../teams/index.js';
import { createTokenService, type TokenService, tokenServiceMigrations } from '../token-service/index.js';
import { createUserService, userMigrations } from '../users/index.js';
import { lockDataDir } from './data-dir-lock.js';
import { freePortBlock } from './free-ports.js';
import { runtimeMigrations } from './migrations.js';
import { type LoadedOrg, loadOrgFile } from './org-file.js';
import { type PlatformConfig, portOf, serviceUrls, usesTls } from './platform-config.js';
import { dataDirKeyPair, dataDirSecret } from './secrets.js';
import { seedOrg } from './seed-org.js';
import { loadOrCreateCertificate } from './tls.js';

/** Where every service tells the CLIs the URLs of all services. */
export const STUPS_DISCOVERY_PATH = '/.well-known/stups-configuration';

/** The demo organisation shipped with the platform. */
export const DEMO_ORG_FILE = fileURLToPath(new URL('../../config/demo-org.yaml', import.meta.url));

/** Every component's migrations; the same list on PGlite and PostgreSQL. */
export const ALL_MIGRATIONS: ComponentMigrations[] = [
  { component: 'audit', migrations: auditMigrations },
  { component: 'stups', migrations: runtimeMigrations },
  { component: 'teams', migrations: teamMigrations },
  { component: 'users', migrations: userMigrations },
  { component: 'token-service', migrations: tokenServiceMigrations },
  { component: 'kio', migrations: kioMigrations },
  { component: 'essentials', migrations: essentialsMigrations },
  pieroneMigrations,
  { component: 'even', migrations: evenMigrations },
];

export interface RunningPlatform {
  urls: Record<ServiceName, string>;
  /** Services that are listening in this process. */
  listening: ServiceName[];
  database: Database['kind'];
  org: LoadedOrg;
  /** Path of the certificate when serving HTTPS. */
  certFile: string | undefined;
  /** even's public SSH key, for installing on odd bastions (when the platform made the key). */
  evenPublicKeyFile: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the platform: every service (`stups up`) or only one (`stups serve <service>`),
 * on the same database and the same migrations either way.
 */
export async function startPlatform(
  config: PlatformConfig,
  options: { logger: Logger; only?: ServiceName | undefined; port?: number | undefined },
): Promise<RunningPlatform> {
  const { logger } = options;
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'));
    }
    cleanups.length = 0;
  };
  try {
    const org = await loadOrgFile(config.orgFile ?? DEMO_ORG_FILE);

    let effective = config;
    if (config.basePort === 0) {
      effective = { ...config, basePort: await freePortBlock(SERVICE_NAMES.length, config.host) };
    }
    const urls = serviceUrls(effective);

    const databaseOptions = databaseOptionsFrom(config.databaseUrl, `${config.dataDir}/db`);
    // Only the embedded database lives in the data directory; PostgreSQL replicas share theirs.
    if (databaseOptions.kind === 'pglite') cleanups.push(await lockDataDir(config.dataDir));
    const database = await openDatabase(databaseOptions);
    cleanups.push(() => database.destroy());
    await migrateToLatest(database, ALL_MIGRATIONS);

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

    const metrics = createMetrics();
    const auditLog = new AuditLog(database, logger);
    // The token service exists only after the context does; revocation checks reach it through this slot.
    const revocation: { service?: TokenService } = {};
    const verifier = new TokenVerifier({
      issuers: config.externalIssuers.map((i) => externalIssuer(i)),
      isRevoked: (jti) => revocation.service?.isRevoked(jti) ?? Promise.resolve(false),
      isDisabled: (principal) => revocation.service?.isDisabled(principal) ?? Promise.resolve(false),
    });
    const ctx: ServiceContext = {
      logger,
      metrics,
      database,
      verifier,
      auditLog,
      adminPolicy: { adminUids: new Set(org.org.admins), adminScope: ADMIN_SCOPE },
      urls,
      tls,
    };

    const teams = createTeamService(ctx);
    const users = createUserService(ctx);

    // One installation secret; every replica derives the same keys from it, each for one purpose.
    const installationSecret =
      config.keyEncryptionSecret ?? (await dataDirSecret(config.dataDir, 'key-encryption'));
    const tokens = createTokenService(ctx, {
      users: users.store,
      config: {
        consoleRedirectUris: [`${urls.console}/auth/callback`],
        keyEncryptionSecret: installationSecret,
        csrfSecret: createHmac('sha256', installationSecret).update('token-service csrf').digest('base64url'),
      },
    });
    revocation.service = tokens;
    verifier.trust(tokens.trustedIssuer);
    await tokens.ready();
    if (!options.only || options.only === 'token-service') {
      await tokens.start();
      cleanups.push(() => tokens.stop());
    }

    const kio = createKioService(ctx, { teams: teams.store });
    await seedOrg(
      database,
      org,
      { teams: teams.store, users: users.store, applications: kio.registry },
      logger,
    );
    const essentials = createEssentialsService(ctx, { applications: kio.applications, teams: teams.store });

    const blobs: BlobStore = config.blobBucket
      ? await createS3BlobStore({
          bucket: config.blobBucket,
          stagingDir: `${config.dataDir}/staging`,
          ...config.s3,
        })
      : await createFilesystemBlobStore({ root: `${config.dataDir}/blobs` });
    const pierone = createPierOneService(ctx, {
      teams: teams.store,
      applications: kio.applications,
      blobs,
      config: parsePierOneConfig({ publicTeams: config.pieronePublicTeams }),
    });
    if (!options.only || options.only === 'pierone') {
      // Uploads abandoned by clients are removed after a day; nothing visible is ever deleted.
      const purge = setInterval(() => {
        pierone
          .purgeStaleUploads()
          .catch((error: unknown) => logger.warn({ err: error }, 'upload purge failed'));
      }, 3600_000);
      purge.unref();
      cleanups.push(async () => clearInterval(purge));
    }

    // even reaches bastions over SSH with a key of its own; bastions install the public half.
    const evenKey = config.evenSshKeyFile
      ? { privateKey: await readFile(config.evenSshKeyFile, 'utf8'), publicKeyFile: undefined }
      : await dataDirKeyPair(config.dataDir, 'even-ssh-key', () => generateEvenKeyPair('even@stups'));
    const evenSettings = config.even as { ssh?: Record<string, unknown> };
    const even = createEvenService(ctx, {
      teams: teams.store,
      users: users.store,
      config: { ...evenSettings, ssh: { ...evenSettings.ssh, privateKey: evenKey.privateKey } },
    });
    if (!options.only || options.only === 'even') {
      even.start();
      cleanups.push(() => even.stop());
    }

    const consoleService = createConsoleService(ctx);
    const apps: Partial<Record<ServiceName, () => Promise<HttpApp>>> = {
      console: () => consoleService.createApp(),
      teams: async () => {
        const app = await teams.createApp();
        registerAuditRoutes(app, { auditLog, verifier, adminPolicy: ctx.adminPolicy });
        return app;
      },
      users: () => users.createApp(),
      'token-service': () => tokens.createApp(),
      kio: () => kio.createApp(),
      essentials: () => essentials.createApp(),
      pierone: () => pierone.createApp(),
      even: () => even.createApp(),
    };

    const selected = options.only ? [options.only] : SERVICE_NAMES.filter((name) => apps[name]);
    if (options.only && !apps[options.only]) {
      throw new ConfigError([
        `service ${options.only} is not available yet; available: ${Object.keys(apps).join(', ')}`,
      ]);
    }
    const discovery = {
      services: Object.fromEntries(Object.keys(apps).map((n) => [n, urls[n as ServiceName]])),
    };
    for (const name of selected) {
      const app = await apps[name]!();
      // Any one service URL is enough for `stups configure` to find all the others.
      app.get(STUPS_DISCOVERY_PATH, { schema: { hide: true } }, async () => discovery);
      const port = options.only && options.port !== undefined ? options.port : portOf(effective, name);
      try {
        await app.listen({ host: config.host, port });
      } catch (error) {
        await app.close();
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new ConfigError([
            `port ${port} (${name}) is in use: is another stups running? Choose --base-port`,
          ]);
        }
        throw error;
      }
      cleanups.push(() => app.close());
    }
    logger.info({ services: selected, database: database.kind }, 'platform started');
    return {
      urls,
      listening: selected,
      database: database.kind,
      org,
      certFile,
      evenPublicKeyFile: evenKey.publicKeyFile,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
