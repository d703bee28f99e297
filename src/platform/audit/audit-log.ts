import type { Generated, Kysely } from 'kysely';
import { auditSafeText, auditSafeValue } from './audit-safe.js';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';

export interface AuditEventsTable {
  id: Generated<string>;
  occurred_at: Generated<Date>;
  service: string;
  action: string;
  actor: string;
  actor_realm: string | null;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  details: unknown;
  request_id: string | null;
}

// A type alias, not an interface: Kysely's `withTables` wants an index-signature-compatible type.
export type AuditTables = {
  audit_events: AuditEventsTable;
};

/**
 * Where an event is written: the log's own connection, or the caller's transaction
 * (`trx.withTables<AuditTables>()`), so that the event commits or rolls back with the change.
 */
export type AuditExecutor = Kysely<AuditTables>;

/** `success`: done; `refused`: not allowed or in conflict (401/403/409); `failure`: tried and failed. */
export type AuditOutcome = 'success' | 'refused' | 'failure';

/** One mutating action: who did what to which thing, and how it ended. */
export interface AuditEvent {
  service: string;
  /** `<component>.<object>.<verb>`, e.g. `teams.team.put`, `token-service.token.issue` (listed in each component's events.ts). */
  action: string;
  actor: { uid: Principal['uid']; realm?: string | undefined };
  target?: { type: string; id: string };
  outcome: AuditOutcome;
  /** Facts worth keeping; never secrets. */
  details?: Record<string, unknown>;
  requestId?: string;
}

export interface AuditRecord {
  id: string;
  occurred_at: string;
  service: string;
  action: string;
  actor: string;
  actor_realm: string | null;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  details: unknown;
  request_id: string | null;
}

export interface AuditQuery {
  service?: string | undefined;
  action?: string | undefined;
  actor?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Return events with an id below this (newest first paging). */
  before?: string | undefined;
  limit: number;
}

/** The append-only audit log every component writes through. */
export class AuditLog {
  readonly #db: Kysely<AuditTables>;
  constructor(
    database: Database,
    private readonly logger: Logger,
  ) {
    this.#db = database.kysely<AuditTables>();
  }

  /**
   * Writes an event through `executor` (the caller's transaction) and throws when it cannot:
   * the change it records must then roll back. Text is made storable first (`auditSafeText`).
   */
  async write(executor: AuditExecutor, event: AuditEvent): Promise<void> {
    const text = (value: string | undefined) => (value === undefined ? null : auditSafeText(value));
    await executor
      .insertInto('audit_events')
      .values({
        service: auditSafeText(event.service),
        action: auditSafeText(event.action),
        actor: auditSafeText(event.actor.uid),
        actor_realm: text(event.actor.realm),
        target_type: text(event.target?.type),
        target_id: text(event.target?.id),
        outcome: event.outcome,
        details: event.details ? JSON.stringify(auditSafeValue(event.details)) : null,
        request_id: text(event.requestId),
      })
      .execute();
  }

  /**
   * Records an event that has no change to commit with (a refusal, a background step whose
   * effect happened elsewhere). Never throws: a failure to audit is logged loudly.
   */
  async record(event: AuditEvent): Promise<void> {
    try {
      await this.write(this.#db, event);
    } catch (error) {
      this.logger.error(
        { err: error, action: event.action, actor: event.actor.uid },
        'audit event could not be written',
      );
    }
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    let q = this.#db.selectFrom('audit_events').selectAll();
    if (query.service) q = q.where('service', '=', query.service);
    if (query.action) q = q.where('action', '=', query.action);
    if (query.actor) q = q.where('actor', '=', query.actor);
    if (query.targetType) q = q.where('target_type', '=', query.targetType);
    if (query.targetId) q = q.where('target_id', '=', query.targetId);
    if (query.from) q = q.where('occurred_at', '>=', query.from);
    if (query.to) q = q.where('occurred_at', '<', query.to);
    if (query.before) q = q.where('id', '<', query.before);
    const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map((r) => ({
      ...r,
      id: String(r.id),
      occurred_at: new Date(r.occurred_at).toISOString(),
    }));
  }
}
