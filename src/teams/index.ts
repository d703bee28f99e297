import type { HttpApp } from '../platform/http/create-http-app.js';
import { createServiceApp } from '../platform/http/create-service-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { registerTeamRoutes } from './routes.js';
import { TeamStore } from './store.js';

export { TEAMS_EVENTS, type TeamsEvent } from './events.js';
export { teamMigrations } from './migrations.js';
export { TeamStore } from './store.js';

/** The team service: teams, members and the team ⇄ AWS account mapping. */
export interface TeamService {
  store: TeamStore;
  createApp(): Promise<HttpApp>;
}

export function createTeamService(ctx: ServiceContext): TeamService {
  const store = new TeamStore(ctx.database);
  return {
    store,
    async createApp() {
      const app = await createServiceApp(ctx, {
        service: 'teams',
        title: 'STUPS Team Service',
      });
      registerTeamRoutes(app, ctx, store);
      return app;
    },
  };
}
