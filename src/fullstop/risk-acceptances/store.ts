import { type Expression, type Generated, type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { AuditTransaction } from '../../platform/audit/create-audit.js';
import type { Database } from '../../platform/db/database.js';
import type { FullstopTables, NewViolationRow, ViolationRow } from '../store.js';
import type { Criteria } from './contract.js';
import { type AcceptanceScope, CompiledAcceptance, firstCovering } from './matcher.js';

export interface RiskAcceptancesTable {
  id: Generated<string>;
  criteria: string;
  reason: string;
  team_id: string;
  team_scoped: boolean;
  created: Generated<Date>;
  created_by: string;
  expires: Date;
  expired_at: Date | null;
  expired_by: string | null;
  expiry_reason: string | null;
  /** How many violations it covered when it ended (an expired acceptance covers none). */
  covered_at_expiry: number | null;
}

export type RiskAcceptanceTables = {
  fullstop_risk_acceptances: RiskAcceptancesTable;
};

type Tables = FullstopTables & RiskAcceptanceTables;
export type RiskAcceptanceRow = Selectable<RiskAcceptancesTable> & { covered: number };

/**
 * Serialises coverage with the writes of violations: creating or ending an acceptance holds it
 * exclusively, storing violations shares it. Without it, a violation inserted while an
 * acceptance is created could be missed by both (the create cannot see it, the insert read the
 * acceptances before the create committed). The class keeps these locks apart from other users'.
 */
const LOCK_CLASS = 0x4653_5241; // "FSRA"
const LOCK_KEY = 1;
/** Violations read and updated per round when an acceptance is applied to stored ones. */
const BATCH = 1000;

export function criteriaOf(row: { criteria: unknown }): Criteria {
  return (typeof row.criteria === 'string' ? JSON.parse(row.criteria) : row.criteria) as Criteria;
}

export function scopeOf(
  row: Pick<RiskAcceptancesTable, 'criteria' | 'team_id' | 'team_scoped'>,
): AcceptanceScope {
  return { criteria: criteriaOf(row), team: row.team_id, teamScoped: row.team_scoped };
}

/** The acceptances in force at `at`, oldest first (the oldest covers a violation several would). */
async function activeAcceptances(
  db: Kysely<Tables>,
  at: Date,
  except?: string,
): Promise<CompiledAcceptance[]> {
  let query = db
    .selectFrom('fullstop_risk_acceptances')
    .select(['id', 'criteria', 'team_id', 'team_scoped'])
    .where('expired_at', 'is', null)
    .where('expires', '>', at)
    .orderBy('id');
  if (except !== undefined) query = query.where('id', '!=', except);
  const rows = await query.execute();
  return rows.map((r) => new CompiledAcceptance(String(r.id), scopeOf(r)));
}

/**
 * Called by the violations store inside its write transaction: sets `rule_id` on the rows an
 * active acceptance covers, so a violation found under an acceptance is stored covered.
 */
export async function coverNewViolations(
  trx: Kysely<FullstopTables>,
  rows: readonly NewViolationRow[],
  at: Date = new Date(),
): Promise<Array<NewViolationRow & { rule_id: string | null }>> {
  const db = trx.withTables<RiskAcceptanceTables>();
  await sql`select pg_advisory_xact_lock_shared(${LOCK_CLASS}::int, ${LOCK_KEY}::int)`.execute(db);
  const acceptances = await activeAcceptances(db, at);
  return rows.map((r) => ({
    ...r,
    rule_id: acceptances.length ? (firstCovering(acceptances, r)?.id ?? null) : null,
  }));
}

/** The SQL part of an acceptance's criteria (the rest, regex and JSONPath, is checked in JS). */
function candidates(db: Kysely<Tables>, scope: AcceptanceScope) {
  const c = scope.criteria;
  return db
    .selectFrom('fullstop_violations')
    .selectAll()
    .where('rule_id', 'is', null)
    .where('comment', 'is', null)
    .where((eb) => {
      const all: Expression<SqlBool>[] = [];
      if (scope.teamScoped) all.push(eb('team_id', '=', scope.team));
      if (c.accounts) all.push(eb('account_id', 'in', c.accounts));
      if (c.regions) all.push(eb('region', 'in', c.regions));
      if (c.types) all.push(eb('type_id', 'in', c.types));
      if (c.application_id !== undefined) all.push(eb('application_id', '=', c.application_id));
      if (c.application_version !== undefined)
        all.push(eb('application_version_id', '=', c.application_version));
      return eb.and(all);
    });
}

/** The open, uncovered violations an acceptance covers, batch by batch in id order. */
async function* covered(db: Kysely<Tables>, acceptance: CompiledAcceptance): AsyncGenerator<ViolationRow[]> {
  let after = '0';
  for (;;) {
    const batch = await candidates(db, acceptance.scope)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (!batch.length) return;
    after = String(batch[batch.length - 1]!.id);
    yield batch.filter((v) => acceptance.covers(v));
  }
}

export interface NewAcceptanceRow {
  criteria: Criteria;
  reason: string;
  team_id: string;
  team_scoped: boolean;
  created_by: string;
  expires: Date;
}

/** The writes of one acceptance transaction; `executor` is for its audit event. */
export interface AcceptanceWriteTransaction {
  readonly executor: AuditTransaction;
  insert(row: NewAcceptanceRow): Promise<Selectable<RiskAcceptancesTable>>;
  /** Covers the stored open violations `acceptance` matches; returns how many. */
  coverStored(acceptance: CompiledAcceptance, by: string): Promise<number>;
  /** The acceptance, locked; undefined when it does not exist. */
  lock(id: string): Promise<Selectable<RiskAcceptancesTable> | undefined>;
  /** Moves the expiry of an active acceptance (the caller checks it is earlier and in the future). */
  setExpiry(id: string, expires: Date): Promise<void>;
  /**
   * Ends it: uncovers its violations, then lets the other active acceptances cover what they
   * match. Returns how many violations it covered.
   */
  end(
    id: string,
    end: { at: Date; by: string; reason: string | null; now: Date },
  ): Promise<{ uncovered: number; coveredByOthers: number }>;
}

/** Persistence of risk acceptances and of which violations they cover (`rule_id`). */
export class RiskAcceptanceStore {
  readonly #db: Kysely<Tables>;

  constructor(database: Database) {
    this.#db = database.kysely<Tables>();
  }

  /** A transaction holding the coverage lock exclusively (see LOCK_CLASS). */
  async write<T>(body: (tx: AcceptanceWriteTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOCK_CLASS}::int, ${LOCK_KEY}::int)`.execute(trx);
      return body(acceptanceTransaction(trx));
    });
  }

  async get(id: string): Promise<RiskAcceptanceRow | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const row = await this.#withCoverage().where('a.id', '=', id).executeTakeFirst();
    return row && withCovered(row);
  }

  async list(filter: {
    team?: string | undefined;
    status: 'active' | 'expired' | 'all';
    at: Date;
  }): Promise<RiskAcceptanceRow[]> {
    let query = this.#withCoverage();
    if (filter.team !== undefined) query = query.where('a.team_id', '=', filter.team);
    if (filter.status === 'active')
      query = query.where('a.expired_at', 'is', null).where('a.expires', '>', filter.at);
    if (filter.status === 'expired')
      query = query.where((eb) =>
        eb.or([eb('a.expired_at', 'is not', null), eb('a.expires', '<=', filter.at)]),
      );
    return (await query.orderBy('a.id', 'desc').execute()).map(withCovered);
  }

  /** Acceptances past their expiry that no job has ended yet. */
  async due(at: Date): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('fullstop_risk_acceptances')
      .select('id')
      .where('expired_at', 'is', null)
      .where('expires', '<=', at)
      .orderBy('id')
      .execute();
    return rows.map((r) => String(r.id));
  }

  /** How many open, uncovered violations `acceptance` would cover, and the first `sample` of them. */
  async preview(
    acceptance: CompiledAcceptance,
    sample: number,
  ): Promise<{ matching: number; sample: ViolationRow[] }> {
    let matching = 0;
    const first: ViolationRow[] = [];
    for await (const batch of covered(this.#db, acceptance)) {
      matching += batch.length;
      for (const v of batch) if (first.length < sample) first.push(v);
    }
    return { matching, sample: first };
  }

  #withCoverage() {
    return this.#db
      .selectFrom('fullstop_risk_acceptances as a')
      .selectAll('a')
      .select((eb) =>
        eb
          .selectFrom('fullstop_violations as v')
          .select(eb.fn.countAll<string>().as('n'))
          .whereRef('v.rule_id', '=', 'a.id')
          .as('now_covered'),
      );
  }
}

/** An expired acceptance covers nothing any more: its count is the one kept when it ended. */
function withCovered(
  row: Selectable<RiskAcceptancesTable> & { now_covered: string | number | null },
): RiskAcceptanceRow {
  const { now_covered, ...rest } = row;
  return {
    ...rest,
    covered: rest.expired_at === null ? Number(now_covered ?? 0) : (rest.covered_at_expiry ?? 0),
  };
}

function acceptanceTransaction(trx: Kysely<Tables>): AcceptanceWriteTransaction {
  return {
    executor: trx,
    async insert(row) {
      return trx
        .insertInto('fullstop_risk_acceptances')
        .values({ ...row, criteria: JSON.stringify(row.criteria) })
        .returningAll()
        .executeTakeFirstOrThrow();
    },
    async coverStored(acceptance, by) {
      if (acceptance.id === undefined) throw new Error('only a stored acceptance covers violations');
      let n = 0;
      for await (const batch of covered(trx, acceptance)) {
        if (!batch.length) continue;
        const result = await trx
          .updateTable('fullstop_violations')
          .set({
            rule_id: acceptance.id,
            last_modified: new Date(),
            last_modified_by: by,
            version: sql`version + 1`,
          })
          .where(
            'id',
            'in',
            batch.map((v) => v.id),
          )
          .where('rule_id', 'is', null)
          .executeTakeFirst();
        n += Number(result.numUpdatedRows);
      }
      return n;
    },
    async lock(id) {
      if (!/^\d{1,18}$/.test(id)) return undefined;
      return trx
        .selectFrom('fullstop_risk_acceptances')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
    },
    async setExpiry(id, expires) {
      await trx.updateTable('fullstop_risk_acceptances').set({ expires }).where('id', '=', id).execute();
    },
    async end(id, end) {
      const released = await trx
        .updateTable('fullstop_violations')
        .set({ rule_id: null, last_modified: end.at, last_modified_by: end.by, version: sql`version + 1` })
        .where('rule_id', '=', id)
        .returningAll()
        .execute();
      await trx
        .updateTable('fullstop_risk_acceptances')
        .set({
          expired_at: end.at,
          expired_by: end.by,
          expiry_reason: end.reason,
          covered_at_expiry: released.length,
        })
        .where('id', '=', id)
        .execute();
      // What this acceptance covered may fall under another one still in force.
      const others = await activeAcceptances(trx, end.now, id);
      let coveredByOthers = 0;
      if (others.length) {
        const byAcceptance = new Map<string, string[]>();
        for (const v of released) {
          if (v.comment !== null) continue;
          const other = firstCovering(others, v);
          if (other?.id === undefined) continue;
          byAcceptance.set(other.id, [...(byAcceptance.get(other.id) ?? []), String(v.id)]);
        }
        for (const [other, ids] of byAcceptance) {
          for (let i = 0; i < ids.length; i += BATCH) {
            await trx
              .updateTable('fullstop_violations')
              .set({ rule_id: other })
              .where('id', 'in', ids.slice(i, i + BATCH))
              .execute();
          }
          coveredByOthers += ids.length;
        }
      }
      return { uncovered: released.length, coveredByOthers };
    },
  };
}
