import type { ApplicationDirectory } from '../kio/contract.js';
import type { BlobStore } from '../platform/blob-store/blob-store.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { TeamDirectory } from '../teams/contract.js';
import { PushAccess } from './access.js';
import { registerApiRoutes } from './api-routes.js';
import type { PierOneConfig } from './config.js';
import { isSnapshotTag } from './reference.js';
import { registryPlugin } from './registry-routes.js';
import { ScmSourceScanner } from './scm-source.js';
import { PierOneStore } from './store.js';

export interface PierOneDeps {
  teams: TeamDirectory;
  applications: ApplicationDirectory;
  blobs: BlobStore;
  config: PierOneConfig;
}

export interface PierOneService {
  /** Builds the HTTP app (STUPS API + `/v2/` registry) without listening. */
  createApp(): Promise<HttpApp>;
  store: PierOneStore;
  /** Deletes unfinished uploads untouched for `olderThanMs` (default one day); returns how many. */
  purgeStaleUploads(olderThanMs?: number): Promise<number>;
}

/**
 * Pier One: the OCI registry with immutable tags under `/v2/` and the STUPS API beside it.
 * Needs `pieroneMigrations` applied to `ctx.database`.
 */
export function createPierOneService(ctx: ServiceContext, deps: PierOneDeps): PierOneService {
  const { config, blobs } = deps;
  const logger = ctx.logger.child({ component: 'pierone' });
  const store = new PierOneStore(ctx.database, {
    manifestCacheEntries: config.manifestCacheEntries,
    tagListTtlMs: config.tagListCacheMs,
    isMutableTag: (name) => config.snapshotTagsMutable && isSnapshotTag(name),
  });
  const access = new PushAccess(deps.teams, deps.applications, config.accessCacheSeconds * 1000);
  const scanner = new ScmSourceScanner(blobs, store, logger, config.maxScmSourceBytes);
  return {
    store,
    purgeStaleUploads: (olderThanMs = 24 * 3600 * 1000) => blobs.uploads.purgeStale(olderThanMs),
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'pierone',
        title: 'Pier One API',
        description: 'Docker/OCI registry with immutable tags, team namespaces and scm-source traceability',
        healthCheck: async () => {
          await store.teams();
        },
      });
      registerApiRoutes(app, { ctx, store, access, config });
      await app.register(registryPlugin({ ctx, store, blobs, access, scanner, config }), { prefix: '/v2' });
      return app;
    },
  };
}
