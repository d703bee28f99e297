import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth/http-auth.js';
import type { Audit, AuditTransaction } from './create-audit.js';

/**
 * For routes whose store takes the audit event as a callback: the event of this request (its
 * principal and request id), which the store writes inside the transaction of the change.
 */
export function requestAudit<E extends string>(audit: Audit<E>) {
  return (request: FastifyRequest, event: E, targetId: string, details?: Record<string, unknown>) =>
    (trx: AuditTransaction) =>
      audit(trx, {
        event,
        actor: principalOf(request),
        targetId,
        requestId: request.id,
        ...(details ? { details } : {}),
      });
}
