import type { ApplicationDirectory } from '../kio/contract.js';
import { createAudit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { type ServiceApplications, TeamPolicy } from '../platform/authz/team-policy.js';
import type { BlobStore } from '../platform/blob-store/blob-store.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { TeamDirectory } from '../teams/contract.js';
import { PushAccess } from './access.js';
import { BlobCollector, GcMetrics, type GcResult, type GcRunOptions } from './gc/collector.js';
import { registerGcRoutes } from './gc/routes.js';
import { registerApiRoutes } from './api-routes.js';
import type { PierOneConfig } from './config.js';
import { PIERONE_EVENTS } from './events.js';
import { Manifests } from './manifests.js';
import { deadManifestCollector } from './gc/dead-manifests.js';
import { isSnapshotTag } from './reference.js';
import { registryUrlError, toOciError } from './oci-errors.js';
import { registryPlugin } from './registry-routes.js';
import { AttestationKeys } from './provenance/attestation-keys.js';
import { Attestations } from './provenance/attestations.js';
import { registerProvenanceRoutes } from './provenance/routes.js';
import { ScmSourceScanner } from './scm-source.js';
import { registerUsageMetrics } from './quota-metrics.js';
import { PierOneQuotas } from './quotas.js';
import { registerQuotaRoutes } from './quota-routes.js';
import { registerRetentionRoutes } from './retention/routes.js';
import { Retention, type RunningImageDirectory } from './retention/retention.js';
import { PierOneStore } from './store.js';
import { BlobUploads, type UploadPurgeOptions, type UploadPurgeResult } from './uploads.js';

export interface PierOneDeps {
  teams: TeamDirectory;
  applications: ApplicationDirectory;
  /** The token service's stored applications of service users (`serviceUserDirectory`). */
  serviceApplications?: ServiceApplications | undefined;
  blobs: BlobStore;
  config: PierOneConfig;
  /** Garbage collection of blobs (default grace period one day). */
  gc?: { graceMs: number } | undefined;
  /** Uploads untouched this long are abandoned (default `ABANDONED_UPLOAD_MS`): the purge's age. */
  abandonedUploadMs?: number | undefined;
  /** Encrypts the attestation signing keys at rest (the installation secret); plain without. */
  keyEncryptionSecret?: string | undefined;
  /** Which images run (fullstop), for retention rules that keep them; looked up when a rule needs it. */
  runningImages?: (() => RunningImageDirectory | undefined) | undefined;
}

/** Uploads untouched for this long are abandoned: the purge removes them. */
export const ABANDONED_UPLOAD_MS = 24 * 3600 * 1000;
/** The upload purge job: one for all replicas, since upload state is shared. */
export const UPLOAD_PURGE_JOB = 'pierone.upload-purge';

export interface PierOneService {
  /** Builds the HTTP app (STUPS API + `/v2/` registry) without listening. */
  createApp(): Promise<HttpApp>;
  store: PierOneStore;
  manifests: Manifests;
  uploads: BlobUploads;
  /** Provenance: signing statements for CI and attaching them as referrers. */
  attestations: Attestations;
  /** The attestation signing keys and their JWKS. */
  attestationKeys: AttestationKeys;
  /** Team quotas and storage usage. */
  quotas: PierOneQuotas;
  /** Retention rules, their dry run and `run()`, the retention job. */
  retention: Retention;
  /**
   * Deletes unfinished uploads not written to for `olderThanMs` (default one day), records and
   * chunks (see `BlobUploads.purgeAbandoned`). The background job `uploadPurgeJobName()`: run it
   * periodically, once at a time for all replicas.
   */
  purgeStaleUploads(options?: Partial<UploadPurgeOptions>): Promise<UploadPurgeResult>;
  /** `pierone.upload-purge`: one job however many replicas there are (the state is shared). */
  uploadPurgeJobName(): Promise<string>;
  /** The blob garbage collector (see gc/collector.ts for its invariant). */
  collector: BlobCollector;
  /** One collection run with the configured grace period (the job `pierone.gc`). */
  collectGarbage(options?: Partial<GcRunOptions>): Promise<GcResult>;
}

/**
 * Pier One: the OCI registry with immutable tags under `/v2/` and the STUPS API beside it.
 * Needs `pieroneMigrations` applied to `ctx.database`.
 */
export function createPierOneService(ctx: ServiceContext, deps: PierOneDeps): PierOneService {
  const { config, blobs } = deps;
  const logger = ctx.logger.child({ component: 'pierone' });
  const audit = createAudit(ctx.auditLog, 'pierone', PIERONE_EVENTS);
  const policy = new TeamPolicy({
    teams: deps.teams,
    applications: deps.applications,
    adminPolicy: ctx.adminPolicy,
    serviceApplications: deps.serviceApplications,
  });
  const quotas = new PierOneQuotas(ctx.database, { policy, audit });
  registerUsageMetrics(ctx.metrics.registry, quotas);
  const store = new PierOneStore(ctx.database, {
    manifestCacheEntries: config.manifestCacheEntries,
    tagListTtlMs: config.tagListCacheMs,
    isMutableTag: (name) => config.snapshotTagsMutable && isSnapshotTag(name),
    linkGuard: (repository, digest, size) =>
      quotas.linkGuard(repository.slice(0, repository.indexOf('/')), digest, size),
    manifestGuard: (repository, blobs) =>
      quotas.manifestGuard(repository.slice(0, repository.indexOf('/')), repository, blobs),
  });
  const access = new PushAccess({ policy, teams: deps.teams, audit });
  const scanner = new ScmSourceScanner(blobs, store, logger, config.maxScmSourceBytes);
  const manifests = new Manifests({ store, access, scanner, audit, config });
  const abandonedUploadMs = deps.abandonedUploadMs ?? ABANDONED_UPLOAD_MS;
  const uploads = new BlobUploads({ store, blobs, access, audit, abandonedAfterMs: abandonedUploadMs });
  const attestationKeys = new AttestationKeys(ctx.database, audit, {
    rotationAgeMs: config.attestationKeyRotationDays * 24 * 3600 * 1000,
    encryptionSecret: deps.keyEncryptionSecret,
  });
  const attestations = new Attestations({ store, blobs, access, audit, keys: attestationKeys });
  const retention = new Retention(ctx.database, {
    store,
    manifests,
    policy,
    audit,
    logger,
    running: deps.runningImages ?? (() => undefined),
  });
  const collector = new BlobCollector({
    database: ctx.database,
    deadManifests: deadManifestCollector(store, audit),
    blobs,
    audit,
    metrics: new GcMetrics(ctx.metrics.registry),
  });
  const graceMs = deps.gc?.graceMs ?? 24 * 3600 * 1000;
  const collectGarbage = (options: Partial<GcRunOptions> = {}) => collector.run({ graceMs, ...options });
  return {
    quotas,
    retention,
    collector,
    collectGarbage,
    store,
    manifests,
    uploads,
    attestations,
    attestationKeys,
    purgeStaleUploads: (options = {}) =>
      uploads.purgeAbandoned({
        olderThanMs: abandonedUploadMs,
        ...options,
      }),
    uploadPurgeJobName: async () => UPLOAD_PURGE_JOB,
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'pierone',
        title: 'Pier One API',
        description: 'Docker/OCI registry with immutable tags, team namespaces and scm-source traceability',
        // One cheap row; the kernel logs a failure's cause and answers strangers a fixed DOWN.
        healthCheck: () => store.probe(),
        // Malformed `/v2` URLs are refused before routing: in the OCI shape, not problem+json.
        urlErrors: [
          {
            prefix: '/v2',
            answer: (rawPath, status) => {
              const answer = toOciError(registryUrlError(rawPath, status));
              return {
                status: answer.status,
                body: answer.body,
                contentType: 'application/json',
                headers: { 'docker-distribution-api-version': 'registry/2.0' },
              };
            },
          },
        ],
      });
      // Refusals the domain and the routes did not record themselves (they mark theirs).
      auditRefusals(app, audit);
      registerApiRoutes(app, { ctx, store, manifests, audit, config });
      registerQuotaRoutes(app, { ctx, quotas, audit, config });
      registerRetentionRoutes(app, { ctx, retention, audit, config });
      registerProvenanceRoutes(app, { ctx, attestations, keys: attestationKeys, audit });
      registerGcRoutes(app, { ctx, access, audit, collect: collectGarbage });
      await app.register(registryPlugin({ ctx, store, blobs, audit, manifests, uploads, config }), {
        prefix: '/v2',
      });
      return app;
    },
  };
}
