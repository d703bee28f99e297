import { createAudit } from '../platform/audit/create-audit.js';
import { type ServiceApplications, TeamPolicy } from '../platform/authz/team-policy.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { TeamDirectory } from '../teams/contract.js';
import { ApplicationRegistry, type SearchSettings } from './application-registry.js';
import type { ApplicationDirectory } from './contract.js';
import { KIO_EVENTS } from './events.js';
import { registerKioRoutes } from './routes.js';
import { ApplicationStore, type SearchCacheOptions } from './store.js';

export type { Actor, PutResult, SearchSettings } from './application-registry.js';
export { ApplicationRegistry } from './application-registry.js';
export * from './contract.js';
/** Kio's tables: `migrateToLatest(db, [{ component: 'kio', migrations: kioMigrations }])`. */
export { kioMigrations } from './migrations.js';
export { registerKioRoutes } from './routes.js';
export { ApplicationStore } from './store.js';
export { APPLICATION_WRITE_SCOPE } from '../platform/authz/team-policy.js';
export { KIO_EVENTS, type KioEvent } from './events.js';

export interface KioService {
  /** Builds Kio's HTTP app (not listening): `/apps…` plus health, metrics and OpenAPI. */
  createApp(): Promise<HttpApp>;
  /** For Pier One, mint, fullstop and the console: is there such an application, whose is it. */
  applications: ApplicationDirectory;
  /**
   * The domain API behind the routes. For seeding, call
   * `registry.put({ uid: 'stups', realm: 'services' }, id, { team_id, active: true, name })`:
   * without a `principal` the write is trusted, still validated against the team directory
   * and recorded in the history and the audit log.
   */
  registry: ApplicationRegistry;
  store: ApplicationStore;
}

/**
 * Creates the Kio service over the kernel's context. Run `kioMigrations` first.
 * `deps.teams` answers team existence and membership; Kio never reads team tables.
 */
export function createKioService(
  ctx: ServiceContext,
  deps: {
    teams: TeamDirectory;
    search?: Partial<SearchSettings>;
    /** Cached search answers (default 256 for at most 60 s; `entries: 0` turns it off). */
    searchCache?: Partial<SearchCacheOptions>;
    /** The token service's stored applications of service users (`serviceUserDirectory`). */
    serviceApplications?: ServiceApplications | undefined;
  },
): KioService {
  const store = new ApplicationStore(ctx.database, deps.searchCache ? { searchCache: deps.searchCache } : {});
  const audit = createAudit(ctx.auditLog, 'kio', KIO_EVENTS);
  // A service acts for the team of its own application, which this very registry knows.
  const policy: TeamPolicy = new TeamPolicy({
    teams: deps.teams,
    applications: { getApplication: async (id) => registry.getApplication(id) },
    adminPolicy: ctx.adminPolicy,
    serviceApplications: deps.serviceApplications,
  });
  const registry: ApplicationRegistry = new ApplicationRegistry(store, {
    teams: deps.teams,
    policy,
    audit,
    ...(deps.search ? { search: deps.search } : {}),
  });
  return {
    applications: registry,
    registry,
    store,
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'kio',
        title: 'Kio API',
        description: 'STUPS application registry',
      });
      registerKioRoutes(app, { registry, verifier: ctx.verifier, audit });
      return app;
    },
  };
}
