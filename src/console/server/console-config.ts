import { fromProjectRoot } from '../../platform/project-root.js';

/** The services the console reaches through its same-origin proxy (`/api/<service>/…`). */
export const PROXIED_SERVICES = [
  'token-service',
  'teams',
  'users',
  'kio',
  'essentials',
  'pierone',
  'even',
  'mint',
  'fullstop',
  'sandbox',
] as const;
export type ProxiedService = (typeof PROXIED_SERVICES)[number];

/** The OAuth client every installation has for the console (see the token service's built-in clients). */
export const CONSOLE_CLIENT_ID = 'console';
/** Where the token service sends the browser back; registered as `<console url>/auth/callback`. */
export const CALLBACK_PATH = '/auth/callback';

export interface ConsoleConfig {
  /**
   * Folder with the built single-page app (`index.html`, `assets/`). Default: `dist/console/web`
   * of this checkout, where `npm run build:console` writes it (the same path from `src/` and `dist/`).
   */
  staticDir?: string;
  /** Scopes the console asks for at login (default `uid openid profile email offline_access`). */
  scopes?: string[];
}

export const DEFAULT_STATIC_DIR = fromProjectRoot('dist', 'console', 'web');
export const DEFAULT_SCOPES = ['uid', 'openid', 'profile', 'email', 'offline_access'];

/** What the SPA reads from `/config.json` before anything else. */
export interface ConsoleClientConfig {
  clientId: string;
  /** The token service's public URL: the browser is sent to its `/oauth2/authorize` page. */
  tokenServiceUrl: string;
  redirectPath: string;
  scopes: string[];
  /** Service name → same-origin base path, e.g. `kio` → `/api/kio`. */
  services: Record<ProxiedService, string>;
  /** Public URLs of the services, for links people may want to open or copy. */
  serviceUrls: Record<ProxiedService, string>;
}
