import { join } from 'node:path';
import { createAudit } from '../platform/audit/create-audit.js';
import { type ServiceApplications, TeamPolicy } from '../platform/authz/team-policy.js';
import type { AwsSettings } from '../platform/aws/client-config.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { ApplicationDirectory } from '../kio/contract.js';
import type { ScopeCatalog } from '../essentials/contract.js';
import type { TeamDirectory } from '../teams/contract.js';
import { type BucketStore, diskBucketStore, s3BucketStore } from './buckets.js';
import { MINT_EVENTS } from './events.js';
import { MintRegistry } from './mint-registry.js';
import { type MintCredentialIssuer, MintWorker, type RotationReport, removeCredentials } from './rotation.js';
import { registerMintRoutes } from './routes.js';
import { MintSettingsSchema, type MintSettings } from './settings.js';
import { SecretSealer } from './sealing.js';
import { MintStore } from './store.js';

export * from './contract.js';
export { type BucketStore, BucketWriteError, diskBucketStore, s3BucketStore } from './buckets.js';
export { MINT_EVENTS, type MintEvent } from './events.js';
export { mintMigrations } from './migrations.js';
export type { MintCredentialIssuer, RotationReport } from './rotation.js';
export { MintSettingsSchema, type MintSettings } from './settings.js';

export interface MintService {
  /** mint storage's HTTP app (not listening): `/apps…` plus health, metrics and OpenAPI. */
  createApp(): Promise<HttpApp>;
  /** One run of the worker (the job `mint.rotation`). */
  rotateDue(): Promise<RotationReport>;
  registry: MintRegistry;
  store: MintStore;
  buckets: BucketStore;
}

/** The bucket store the settings choose: folders under bucketsDir (default `<dataDir>/buckets`) or S3. */
export function bucketStoreFor(settings: MintSettings, dataDir: string, aws: AwsSettings): BucketStore {
  return settings.bucketStore === 's3'
    ? s3BucketStore(aws)
    : diskBucketStore(settings.bucketsDir ?? join(dataDir, 'buckets'));
}

/** Creates mint over the kernel's context. Run `mintMigrations` first. */
export function createMintService(
  ctx: ServiceContext,
  deps: {
    applications: ApplicationDirectory;
    scopes: ScopeCatalog;
    teams: TeamDirectory;
    credentials: MintCredentialIssuer;
    buckets: BucketStore;
    /** Seals the client secrets mint keeps (the same on every replica). */
    installationSecret: string;
    serviceApplications?: ServiceApplications | undefined;
    settings?: Partial<MintSettings>;
    /** Applications the worker syncs at once. */
    concurrency?: number;
    /** Clock in milliseconds; tests move it instead of sleeping. */
    now?: () => number;
  },
): MintService {
  const settings = MintSettingsSchema.parse(deps.settings ?? {});
  const store = new MintStore(ctx.database);
  const audit = createAudit(ctx.auditLog, 'mint', MINT_EVENTS);
  const policy = new TeamPolicy({
    teams: deps.teams,
    applications: deps.applications,
    adminPolicy: ctx.adminPolicy,
    serviceApplications: deps.serviceApplications,
  });
  const registry = new MintRegistry(store, {
    applications: deps.applications,
    scopes: deps.scopes,
    policy,
    audit,
    serviceUserPrefix: settings.serviceUserPrefix,
    credentials: { removeCredentials: (app, actor) => removeCredentials(deps.credentials, app, actor) },
    ...(deps.now ? { now: deps.now } : {}),
  });
  const worker = new MintWorker(store, {
    applications: deps.applications,
    scopes: deps.scopes,
    credentials: deps.credentials,
    buckets: deps.buckets,
    audit,
    logger: ctx.logger.child({ component: 'mint' }),
    tokenEndpoint: settings.tokenEndpoint ?? `${ctx.urls['token-service']}/oauth2/access_token`,
    settings: { ...settings, concurrency: deps.concurrency ?? 4 },
    sealer: new SecretSealer(deps.installationSecret),
    ...(deps.now ? { now: deps.now } : {}),
  });
  return {
    registry,
    store,
    buckets: deps.buckets,
    rotateDue: () => worker.rotateDue(),
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'mint',
        title: 'mint storage API',
        description: 'OAuth credentials of applications: configuration and rotation status (STUPS mint)',
      });
      registerMintRoutes(app, { registry, verifier: ctx.verifier, audit });
      return app;
    },
  };
}
