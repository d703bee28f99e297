import type { AuditLog } from './audit/audit-log.js';
import type { AdminPolicy } from './auth/http-auth.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import type { Database } from './db/database.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** The services the platform runs, each on an origin of its own (their routes overlap: `/teams`, `/apps`). */
export const SERVICE_NAMES = [
  'console',
  'token-service',
  'teams',
  'users',
  'kio',
  'essentials',
  'pierone',
  'even',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * What the shared kernel hands every service. Contracts of other components (team
 * directory, user directory, …) are passed to each service explicitly beside it.
 */
export interface ServiceContext {
  logger: Logger;
  metrics: Metrics;
  database: Database;
  verifier: TokenVerifier;
  auditLog: AuditLog;
  adminPolicy: AdminPolicy;
  /** Public base URL of every service (no trailing slash), e.g. for links and auth challenges. */
  urls: Readonly<Record<ServiceName, string>>;
  /** When set, every service serves HTTPS with this certificate (pass it to createHttpApp). */
  tls?: { cert: string; key: string } | undefined;
}
