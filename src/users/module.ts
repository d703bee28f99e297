import { z } from 'zod';
import { defineModule } from '../platform/service-module.js';
import type { UserDirectory } from './contract.js';
import { createUserService } from './index.js';
import { userMigrations } from './migrations.js';
import type { UserStore } from './user-store.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Employees, passwords and SSH keys, for the token service and even. */
    users: UserDirectory;
    /** The user store itself, for seeding the organisation file. */
    userStore: UserStore;
  }
}

/** users has no settings yet; the empty section keeps the settings tree uniform. */
export const UserSettingsSchema = z.strictObject({});

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
