import type { AuditLog } from '../platform/audit/audit-log.js';
import type { Principal } from '../platform/auth/principal.js';
import type { PierOneEventName } from './events.js';

/** Who acts in a request: the verified caller and the request id every audit event carries. */
export interface Actor {
  principal: Principal;
  requestId: string;
}

/** One Pier One audit event; the service name is filled in. */
export interface PierOneAuditEvent {
  action: PierOneEventName;
  /** The caller, or `anonymous` for a refused request without valid credentials. */
  actor: Pick<Principal, 'uid' | 'realm'> | { uid: 'anonymous'; realm?: undefined };
  target: { type: string; id: string };
  outcome: 'success' | 'failure';
  details?: Record<string, unknown>;
  requestId: string;
}

/**
 * The one way Pier One's domain writes audit events. Everything goes through this port so that
 * moving to the kernel's transactional audit factory is a change of this one adapter.
 */
export type PierOneAudit = (event: PierOneAuditEvent) => Promise<void>;

export function pierOneAudit(log: AuditLog): PierOneAudit {
  return (event) =>
    log.record({
      service: 'pierone',
      action: event.action,
      actor: event.actor,
      target: event.target,
      outcome: event.outcome,
      ...(event.details ? { details: event.details } : {}),
      requestId: event.requestId,
    });
}
