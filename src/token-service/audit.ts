import type { AuditEvent, AuditLog } from '../platform/audit/audit-log.js';

export type TokenAuditEvent = Omit<AuditEvent, 'service'>;
/** Records one token-service event; never throws (the audit log logs its own failures). */
export type Audit = (event: TokenAuditEvent) => Promise<void>;

/** Everything the token service audits goes through here, so `service` is always the same. */
export function createAudit(auditLog: AuditLog): Audit {
  return (event) => auditLog.record({ service: 'token-service', ...event });
}

/** Who performed an administrative change when the caller did not say (e.g. seeding at start). */
export const SYSTEM_ACTOR = { uid: 'token-service' } as const;
