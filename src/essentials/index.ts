import type { ApplicationDirectory } from '../kio/contract.js';
import { createAudit } from '../platform/audit/create-audit.js';
import { type ServiceApplications, TeamPolicy } from '../platform/authz/team-policy.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { ScopeCatalog } from './contract.js';
import { EssentialsRegistry } from './essentials-registry.js';
import { ESSENTIALS_EVENTS } from './events.js';
import { registerEssentialsRoutes } from './routes.js';
import { EssentialsStore } from './store.js';

export * from './contract.js';
export {
  type EssentialsActor,
  EssentialsRegistry,
  type EssentialsRegistryDeps,
} from './essentials-registry.js';
/** essentials' tables: `migrateToLatest(db, [{ component: 'essentials', migrations: essentialsMigrations }])`. */
export { essentialsMigrations } from './migrations.js';
export { ESSENTIALS_EVENTS, type EssentialsEvent } from './events.js';
export { registerEssentialsRoutes } from './routes.js';
export { EssentialsStore } from './store.js';

export interface EssentialsService {
  /** Builds essentials' HTTP app (not listening): `/resource-types…` plus health, metrics, OpenAPI. */
  createApp(): Promise<HttpApp>;
  /** For the token service and mint: which scopes exist (`getScope('sales_order.read')`). */
  scopes: ScopeCatalog;
  /**
   * The domain API behind the routes. For seeding, call e.g.
   * `registry.putType({ uid: 'stups', realm: 'services' }, 'sales_order', { name, resource_owners })`:
   * without a `principal` the write is trusted, still checked against the rules and audited.
   */
  registry: EssentialsRegistry;
  store: EssentialsStore;
}

/**
 * Creates the essentials service. Run `essentialsMigrations` first. Writes are for platform
 * administrators (`isAdmin`: listed employees, services with `stups.admin`); given
 * `applications` and `teams`, also for whoever may act for the team that owned the application
 * a resource type is named after (`pierone.images` → application `pierone`) when the type was
 * created, as in the original essentials.
 */
export function createEssentialsService(
  ctx: ServiceContext,
  deps: {
    applications?: ApplicationDirectory;
    teams?: TeamDirectory;
    validResourceOwners?: readonly string[];
    /** The token service's stored applications of service users (`serviceUserDirectory`). */
    serviceApplications?: ServiceApplications | undefined;
  } = {},
): EssentialsService {
  const store = new EssentialsStore(ctx.database);
  const audit = createAudit(ctx.auditLog, 'essentials', ESSENTIALS_EVENTS);
  // Without both directories nobody owns a type, so only administrators write.
  const directories =
    deps.applications && deps.teams ? { applications: deps.applications, teams: deps.teams } : undefined;
  const registry = new EssentialsRegistry(store, {
    audit,
    policy: new TeamPolicy({
      teams: directories?.teams ?? { isMember: async () => false },
      applications: directories?.applications ?? { getApplication: async () => undefined },
      adminPolicy: ctx.adminPolicy,
      serviceApplications: deps.serviceApplications,
    }),
    applications: directories?.applications,
    validResourceOwners: deps.validResourceOwners,
  });
  return {
    scopes: registry,
    registry,
    store,
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'essentials',
        title: 'essentials API',
        description: 'STUPS resource types and scopes',
      });
      registerEssentialsRoutes(app, { registry, verifier: ctx.verifier, audit });
      return app;
    },
  };
}
