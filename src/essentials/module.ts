import { defineModule } from '../platform/service-module.js';
import type { ScopeCatalog } from './contract.js';
import { createEssentialsService } from './index.js';
import { essentialsMigrations } from './migrations.js';
import { EssentialsSettingsSchema } from './settings.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Which scopes exist, for the token service and mint. */
    scopes: ScopeCatalog;
  }
}

/** essentials: resource types and their scopes. */
export const essentialsModule = defineModule({
  name: 'essentials',
  migrations: [{ component: 'essentials', migrations: essentialsMigrations }],
  settings: EssentialsSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const essentials = createEssentialsService(ctx, {
      applications: contracts.get('applications'),
      teams: contracts.get('teams'),
      serviceApplications: contracts.find('serviceUserDirectory'),
      ...(settings.validResourceOwners ? { validResourceOwners: settings.validResourceOwners } : {}),
    });
    return { app: () => essentials.createApp(), provides: { scopes: essentials.scopes } };
  },
});
