import type { ApplicationRegistry } from './application-registry.js';
import type { ApplicationDirectory } from './contract.js';
import { createKioService } from './index.js';
import { kioMigrations } from './migrations.js';
import { defineModule } from '../platform/service-module.js';
import { KioSettingsSchema } from './settings.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Which applications exist and which team owns each, for Pier One, essentials, mint. */
    applications: ApplicationDirectory;
    /** Kio's domain API, for seeding the organisation file. */
    applicationRegistry: ApplicationRegistry;
  }
}

/** Kio, the application registry. */
export const kioModule = defineModule({
  name: 'kio',
  migrations: [{ component: 'kio', migrations: kioMigrations }],
  settings: KioSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const kio = createKioService(ctx, {
      teams: contracts.get('teams'),
      search: settings.search,
      serviceApplications: contracts.find('serviceUserDirectory'),
    });
    return {
      app: () => kio.createApp(),
      provides: { applications: kio.applications, applicationRegistry: kio.registry },
    };
  },
});
