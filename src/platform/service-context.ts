import type { AuditLog } from './audit/audit-log.js';
import type { AdminPolicy } from './auth/http-auth.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import type { Database } from './db/database.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * Port of each service, as an offset from the base port (`stups up --base-port`, default 8090),
 * by name rather than by position, so that adding a service never moves another one's port.
 * Offsets 8–13 are reserved for services still to come; a new service takes the next free one.
 * Each service has an origin of its own (ADR 0001): their routes overlap (`/teams`, `/apps`).
 */
export const SERVICE_PORT_OFFSETS = {
  console: 0,
  'token-service': 1,
  teams: 2,
  users: 3,
  kio: 4,
  essentials: 5,
  pierone: 6,
  even: 7,
  mint: 8,
  fullstop: 9,
  sevenseconds: 10,
  mai: 11,
  sandbox: 12,
  trace: 13,
} as const;

/** How many consecutive ports `--base-port` reserves (room for services to come). */
export const PORT_BLOCK_SIZE = 16;

/** Every service name the port map knows, in port order. */
export const SERVICE_NAMES = Object.keys(SERVICE_PORT_OFFSETS) as Array<keyof typeof SERVICE_PORT_OFFSETS>;
export type ServiceName = keyof typeof SERVICE_PORT_OFFSETS;

/**
 * What the shared kernel hands every service. Contracts of other components (team
 * directory, user directory, …) come beside it: from the contract registry in a module's
 * `create` (src/platform/contracts.ts), as explicit arguments to `create<X>Service` in tests.
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
  /**
   * How long a connection may stay silent before it is closed (`platform.idleTimeoutSeconds`);
   * unset means `DEFAULT_IDLE_TIMEOUT_MS`. createServiceApp applies it; pass it to createHttpApp.
   */
  idleTimeoutMs?: number | undefined;
  /**
   * How long requests in flight may take to finish when the service stops
   * (`platform.shutdownGraceSeconds`); unset means `DEFAULT_SHUTDOWN_GRACE_MS`.
   */
  shutdownGraceMs?: number | undefined;
}
