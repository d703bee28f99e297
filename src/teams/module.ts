import { registerAuditRoutes } from '../platform/audit/routes.js';
import { defineModule } from '../platform/service-module.js';
import type { TeamDirectory } from './contract.js';
import { createTeamService } from './index.js';
import { teamMigrations } from './migrations.js';
import { TeamSettingsSchema } from './settings.js';
import type { TeamStore } from './store.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Teams and membership, for every service that asks "is X a member of team T". */
    teams: TeamDirectory;
    /** The team store itself, for seeding the organisation file. */
    teamStore: TeamStore;
  }
}

/** The team service, which also serves the platform's admin audit log (`/audit-events`). */
export const teamsModule = defineModule({
  name: 'teams',
  migrations: [{ component: 'teams', migrations: teamMigrations }],
  settings: TeamSettingsSchema,
  async create(ctx) {
    const teams = createTeamService(ctx);
    return {
      async app() {
        const app = await teams.createApp();
        registerAuditRoutes(app, {
          auditLog: ctx.auditLog,
          verifier: ctx.verifier,
          adminPolicy: ctx.adminPolicy,
        });
        return app;
      },
      provides: { teams: teams.store, teamStore: teams.store },
    };
  },
});
