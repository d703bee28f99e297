import { sql } from 'kysely';
import { createHttpApp, type HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { registerUserRoutes } from './routes.js';
import { UserStore } from './user-store.js';

export { userMigrations } from './migrations.js';
export { UserStore } from './user-store.js';

/** The user service: employees, passwords and SSH public keys. */
export interface UserService {
  store: UserStore;
  createApp(): Promise<HttpApp>;
}

export function createUserService(ctx: ServiceContext): UserService {
  const store = new UserStore(ctx.database);
  return {
    store,
    async createApp() {
      const app = await createHttpApp({
        title: 'STUPS User Service',
        logger: ctx.logger,
        metrics: ctx.metrics,
        tls: ctx.tls,
        audit: { log: ctx.auditLog, service: 'users' },
        healthCheck: async () => void (await sql`select 1`.execute(ctx.database.kysely())),
      });
      registerUserRoutes(app, ctx, store);
      return app;
    },
  };
}
