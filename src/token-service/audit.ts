import type { AuditLog } from '../platform/audit/audit-log.js';
import {
  type Audit,
  type AuditActor,
  createAudit,
  internalRequestId,
} from '../platform/audit/create-audit.js';
import { TOKEN_SERVICE_EVENTS, type TokenServiceEvent } from './events.js';

/** The token service's audit helper: `audit(trx, entry)` in the change's transaction. */
export type TokenServiceAudit = Audit<TokenServiceEvent>;

export function createTokenServiceAudit(auditLog: AuditLog): TokenServiceAudit {
  return createAudit(auditLog, 'token-service', TOKEN_SERVICE_EVENTS);
}

/** Who performed an administrative change when the caller did not say (e.g. seeding at start). */
export const SYSTEM_ACTOR: AuditActor = { uid: 'token-service' };

/** A request id for changes no HTTP request started: seeding at start, the maintenance job, admin calls. */
export function systemRequestId(): string {
  return internalRequestId('token-service');
}
