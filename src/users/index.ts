import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { registerUserRoutes } from './routes.js';
import { UserStore } from './store.js';

export { USERS_EVENTS, type UsersEvent } from './events.js';
export { userMigrations } from './migrations.js';
export { UserStore } from './store.js';

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
      const app = await createServiceApp(ctx, {
        service: 'users',
        title: 'STUPS User Service',
      });
      registerUserRoutes(app, ctx, store);
      return app;
    },
  };
}
