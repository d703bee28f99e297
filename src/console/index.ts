import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { createConsoleApp } from './server/console-app.js';
import type { ConsoleConfig } from './server/console-config.js';

export type { ConsoleClientConfig, ConsoleConfig } from './server/console-config.js';
export { CONSOLE_CLIENT_ID, CALLBACK_PATH, PROXIED_SERVICES } from './server/console-config.js';

export interface ConsoleService {
  /** The console's HTTP app (SPA, `/config.json`, `/api/<service>/*` proxy), not yet listening. */
  createApp(): Promise<HttpApp>;
}

/** The web console (YOUR TURN), served at `ctx.urls.console`. */
export function createConsoleService(ctx: ServiceContext, config: ConsoleConfig = {}): ConsoleService {
  return { createApp: () => createConsoleApp(ctx, config) };
}
