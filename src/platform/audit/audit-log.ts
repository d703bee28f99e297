import type { Generated, Kysely } from 'kysely';
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

interface AuditTables {
  audit_events: AuditEventsTable;
}

/** One mutating action: who did what to which thing, and how it ended. */
export interface AuditEvent {
  service: string;
  /** Verb-first and stable, e.g. `team.update`, `token.issue`. */
  action: string;
  actor: Pick<Principal, 'uid' | 'realm'> | { uid: string; realm?: undefined };
  target?: { type: string; id: string };
  outcome: 'success' | 'failure';
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
   * Records an event. Never throws: a failure to audit is logged loudly but must not turn
   * a completed change into an error answer.
   */
  async record(event: AuditEvent): Promise<void> {
    try {
      await this.#db
        .insertInto('audit_events')
        .values({
          service: event.service,
          action: event.action,
          actor: event.actor.uid,
          actor_realm: event.actor.realm ?? null,
          target_type: event.target?.type ?? null,
          target_id: event.target?.id ?? null,
          outcome: event.outcome,
          details: event.details ? JSON.stringify(event.details) : null,
          request_id: event.requestId ?? null,
        })
        .execute();
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
