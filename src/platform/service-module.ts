import type { z } from 'zod';
import type { AwsSettings } from './aws/client-config.js';
import type { Contracts, ContractReader } from './contracts.js';
import type { ComponentMigrations } from './db/migrate.js';
import type { HttpApp } from './http/create-http-app.js';
import type { JobDefinition } from './jobs/job-runner.js';
import type { ServiceContext, ServiceName } from './service-context.js';

/** What the runtime hands a module beside the shared ServiceContext. */
export interface ModuleContext extends ServiceContext {
  /** The installation's data directory (embedded database, blobs, generated keys). */
  dataDir: string;
  /**
   * One secret per installation, the same on every replica; modules derive their own keys
   * from it (HMAC with a purpose string) instead of asking operators for one secret each.
   */
  installationSecret: string;
  /** Region, endpoint and profile; build SDK clients with `awsClientConfig(ctx.aws)` (src/platform/aws). */
  aws: AwsSettings;
}

/** A created service: its HTTP app, its background jobs and what it must release on shutdown. */
export interface ServiceInstance {
  /** Builds the Fastify app, not listening: tests `inject` into it, the runtime listens. */
  app(): Promise<HttpApp>;
  /** Run by the kernel's job runner (exactly once per tick across replicas) where this service is served. */
  jobs?: JobDefinition[];
  /** Contracts this module offers to the modules after it in MODULES. */
  provides?: Partial<Contracts>;
  /** Lines `stups up` prints under the service's URL (e.g. where a generated key lives). */
  notes?: string[];
  dispose?: () => Promise<void>;
}

/**
 * The one shape of a service. `stups up`/`stups serve` loop over MODULES: parse each module's
 * settings under its `name` in the settings tree, run every module's migrations, `create` the
 * modules in order (each reads the contracts earlier ones provided), listen on the port
 * SERVICE_PORT_OFFSETS gives `name`, run the jobs, dispose in reverse order.
 */
export interface ServiceModule<Schema extends z.ZodType = z.ZodType> {
  /** Key in the port map, in the settings tree (`<name>:` in stups.yaml) and in the audit log. */
  name: ServiceName;
  /** Tables this module owns; component names sort into one migration list. */
  migrations: ComponentMigrations[];
  /** Every setting with a default and a `.describe()`; `{}` must parse (a module runs unconfigured). */
  settings: Schema;
  create(
    ctx: ModuleContext,
    deps: { settings: z.output<Schema>; contracts: ContractReader },
  ): Promise<ServiceInstance>;
}

/** Keeps a module's settings type attached to its schema; `export const kioModule = defineModule({…})`. */
export function defineModule<Schema extends z.ZodType>(module: ServiceModule<Schema>): ServiceModule<Schema> {
  return module;
}
