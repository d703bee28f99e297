import type { AuditLog } from '../platform/audit/audit-log.js';
import {
  type Audit,
  type AuditActor,
  type AuditTransaction,
  createAudit,
  internalRequestId,
  purgeDetails,
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

/**
 * Records, in the deleting transaction, that the maintenance job deleted expired rows: one event
 * per run and kind, none when nothing was deleted.
 */
export async function auditPurge(
  audit: TokenServiceAudit,
  trx: AuditTransaction,
  event: Extract<TokenServiceEvent, `${string}.purge`>,
  ids: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  if (ids.length === 0) return;
  await audit(trx, {
    event,
    actor: SYSTEM_ACTOR,
    details: purgeDetails(ids, extra),
    requestId: systemRequestId(),
  });
}
