import { defineModule } from '../platform/service-module.js';
import { createConsoleService } from './index.js';
import { ConsoleSettingsSchema } from './settings.js';

/** The web console (YOUR TURN): the single-page app and its same-origin API proxy. */
export const consoleModule = defineModule({
  name: 'console',
  migrations: [],
  settings: ConsoleSettingsSchema,
  async create(ctx, { settings }) {
    const console = createConsoleService(ctx, {
      scopes: settings.scopes,
      ...(settings.staticDir ? { staticDir: settings.staticDir } : {}),
    });
    return { app: () => console.createApp() };
  },
});
