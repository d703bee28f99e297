import { AuditLog } from '../audit/audit-log.js';
import { auditMigrations } from '../audit/migrations.js';
import { authMigrations } from '../auth/migrations.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { Database } from '../db/database.js';
import type { ComponentMigrations } from '../db/migrate.js';
import { silentLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { SERVICE_NAMES, type ServiceContext, type ServiceName } from '../service-context.js';

/** Migrations every service needs besides its own. */
export const KERNEL_MIGRATIONS: ComponentMigrations[] = [
  { component: 'audit', migrations: auditMigrations },
  { component: 'auth', migrations: authMigrations },
];

/** A real ServiceContext over a test database; URLs point at unreachable loopback ports. */
export function createTestContext(
  database: Database,
  verifier: TokenVerifier,
  options: { adminUids?: string[] } = {},
): ServiceContext {
  const logger = silentLogger();
  const urls = Object.fromEntries(
    SERVICE_NAMES.map((name, i) => [name, `http://127.0.0.1:${9 + i}`]),
  ) as Record<ServiceName, string>;
  return {
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    database,
    verifier,
    auditLog: new AuditLog(database, logger),
    adminPolicy: { adminUids: new Set(options.adminUids ?? ['admin']), adminScope: 'stups.admin' },
    urls,
  };
}
