import { defineModule } from '../platform/service-module.js';
import type { UserDirectory } from './contract.js';
import { createUserService } from './index.js';
import { userMigrations } from './migrations.js';
import { UserSettingsSchema } from './settings.js';
import type { UserStore } from './store.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Employees, passwords and SSH keys, for the token service and even. */
    users: UserDirectory;
    /** The user store itself, for seeding the organisation file. */
    userStore: UserStore;
  }
}

/** The user service: employees, passwords and SSH public keys. */
export const usersModule = defineModule({
  name: 'users',
  migrations: [{ component: 'users', migrations: userMigrations }],
  settings: UserSettingsSchema,
  async create(ctx) {
    const users = createUserService(ctx);
    return { app: () => users.createApp(), provides: { users: users.store, userStore: users.store } };
  },
});
