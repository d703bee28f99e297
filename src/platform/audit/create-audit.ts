import { randomUUID } from 'node:crypto';
import type { AuditExecutor, AuditLog, AuditOutcome } from './audit-log.js';

/**
 * Run by a store inside its write transaction, with the transaction and the write's result:
 * how a route or domain service adds its audit event to a store method's transaction.
 */
export type InTransaction<R> = (trx: AuditTransaction, result: R) => Promise<void>;

/**
 * The caller's Kysely transaction, over whatever tables it declares (Kysely's generic types do
 * not let a `Transaction<KioTables>` pass as a `Kysely<AuditTables>`). Checked at run time.
 */
export interface AuditTransaction {
  readonly isTransaction: boolean;
}

/** An event name of a component's vocabulary: `<component>.<object>.<verb>`, e.g. `kio.application.put`. */
export type AuditEventName<C extends string> = `${C}.${string}.${string}`;

/** Who acted: a principal (uid and realm), or the platform itself (seeding, background jobs). */
export interface AuditActor {
  uid: string;
  realm?: string | undefined;
}

/** One entry as a component writes it; `service` and the target type come from the factory. */
export interface AuditEntry<E extends string> {
  event: E;
  actor: AuditActor;
  /** The id of the thing acted on; its type is the `<object>` of the event name. */
  targetId?: string | undefined;
  /** Default `success`. */
  outcome?: AuditOutcome;
  /** Facts worth keeping; never secrets. Text is escaped where PostgreSQL would refuse it. */
  details?: Record<string, unknown>;
  /** The HTTP request id, or a generated one for work no request started (`internalRequestId`). */
  requestId: string;
}

/**
 * A component's audit helper. `audit(trx, entry)` writes inside the caller's transaction and
 * throws when the event cannot be stored, so the change and its event commit together or not
 * at all. `audit.standalone(entry)` is for events with no change of their own (refusals).
 */
export interface Audit<E extends string> {
  (trx: AuditTransaction, entry: AuditEntry<E>): Promise<void>;
  /** Writes on its own; never throws (a refusal must stay a refusal even if the log is down). */
  standalone(entry: AuditEntry<E>): Promise<void>;
  /** Route config naming the route's event, checked against the vocabulary: `config: audit.route(…)`. */
  route(event: E): { auditEvent: E };
  readonly component: string;
  readonly events: readonly E[];
}

/**
 * The one way a component audits: `const audit = createAudit(ctx.auditLog, 'kio', KIO_EVENTS)`.
 * The vocabulary is typed, so a misspelt event does not compile.
 */
export function createAudit<C extends string, const E extends AuditEventName<C>>(
  log: AuditLog,
  component: C,
  events: readonly E[],
): Audit<E> {
  const toEvent = (entry: AuditEntry<E>) => ({
    service: component,
    action: entry.event,
    actor: { uid: entry.actor.uid, realm: entry.actor.realm },
    ...(entry.targetId === undefined ? {} : { target: { type: objectOf(entry.event), id: entry.targetId } }),
    outcome: entry.outcome ?? 'success',
    ...(entry.details ? { details: entry.details } : {}),
    requestId: entry.requestId,
  });
  const audit = async (trx: AuditTransaction, entry: AuditEntry<E>): Promise<void> => {
    if (!trx.isTransaction) {
      throw new TypeError(`audit(trx, …) of ${entry.event} needs the transaction of the change it records`);
    }
    // The component's transaction, seen with the audit table: same connection, same commit.
    const executor = trx as unknown as AuditExecutor;
    await log.write(executor, toEvent(entry));
  };
  return Object.assign(audit, {
    standalone: (entry: AuditEntry<E>) => log.record(toEvent(entry)),
    route: (event: E) => ({ auditEvent: event }),
    component,
    events,
  });
}

/** `kio.application.put` → `application`. */
function objectOf(event: string): string {
  return event.split('.')[1] ?? event;
}

/** A request id for work no HTTP request started (seeding, background jobs), e.g. `even-expiry-…`. */
export function internalRequestId(origin: string): string {
  return `${origin}-${randomUUID()}`;
}

const auditedErrors = new WeakSet<object>();

/**
 * Marks a refusal the domain has already audited in its own transaction (e.g. even stores a
 * DENIED request with its event), so the route's refusal hook does not record it twice.
 */
export function markAudited<T extends object>(error: T): T {
  auditedErrors.add(error);
  return error;
}

export function isAudited(error: unknown): boolean {
  return typeof error === 'object' && error !== null && auditedErrors.has(error);
}

/** How many ids a purge event lists at most; the count is always exact. */
export const PURGE_SAMPLE_SIZE = 20;

/**
 * The details of one summarising event for rows a background job deleted because they expired
 * (`<component>.<object>.purge`): the exact count and the first ids, bounded so that a purge of a
 * million rows still writes one small event. Ids must not be secrets (no code or token hashes).
 */
export function purgeDetails(
  ids: readonly string[],
  extra: Record<string, unknown> = {},
): { count: number; ids: string[]; idsOmitted: number } & Record<string, unknown> {
  const sample = ids.slice(0, PURGE_SAMPLE_SIZE);
  return { ...extra, count: ids.length, ids: sample, idsOmitted: ids.length - sample.length };
}
