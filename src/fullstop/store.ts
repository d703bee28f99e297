import {
  type Expression,
  type ExpressionBuilder,
  type Generated,
  type Kysely,
  type Selectable,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import type { AuditTransaction } from '../platform/audit/create-audit.js';
import type { Database } from '../platform/db/database.js';
import { coverNewViolations } from './risk-acceptances/store.js';
import { type InstanceChange, type InstanceTables, recordInstanceChanges } from './running-instances.js';

export interface FullstopViolationsTable {
  id: Generated<string>;
  version: Generated<number>;
  event_id: string;
  account_id: string;
  region: string;
  instance_id: string;
  type_id: string;
  meta_info: string | null;
  comment: string | null;
  team_id: string | null;
  username: string | null;
  rule_id: string | null;
  application_id: string | null;
  application_version_id: string | null;
  created: Generated<Date>;
  created_by: string;
  last_modified: Generated<Date>;
  last_modified_by: string;
  /** When the first comment was set; null while unresolved. */
  resolved_at: Date | null;
  /** When the event behind it happened; null when stored before fullstop kept it or not known. */
  event_time: Date | null;
}

export interface FullstopTables extends InstanceTables {
  fullstop_violations: FullstopViolationsTable;
  fullstop_ingested_files: {
    source: string;
    key: string;
    events: number;
    violations: number;
    ingested_at: Generated<Date>;
  };
  fullstop_instance_logs: {
    id: Generated<string>;
    account_id: string;
    region: string;
    instance_id: string;
    instance_boot_time: string;
    log_type: string;
    log_data: string;
    created: Generated<Date>;
    created_by: string;
  };
}

export type ViolationRow = Selectable<FullstopViolationsTable>;

/** What a periodic run needs to know of a violation it stored before. */
export type PeriodicViolationRow = Pick<
  ViolationRow,
  'id' | 'account_id' | 'region' | 'event_id' | 'instance_id' | 'comment' | 'rule_id' | 'last_modified_by'
>;

/** A violation to store; `instance_id` '' when it concerns no instance. */
export interface NewViolationRow {
  event_id: string;
  account_id: string;
  region: string;
  instance_id: string;
  type_id: string;
  meta_info: unknown;
  team_id: string | null;
  username: string | null;
  application_id: string | null;
  application_version_id: string | null;
  created_by: string;
  /** When the event behind it happened (CloudTrail eventTime, …); null: not known. */
  event_time?: Date | null | undefined;
  /**
   * When fullstop stored it (default now): `created`, what clients filter (`from`, `to`) and sort
   * by. Only seeding (benchmarks) sets it.
   */
  created?: Date | undefined;
}

export interface ViolationFilter {
  accounts?: readonly string[] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  afterId?: number | undefined;
  checked?: boolean | undefined;
  typeIds?: readonly string[] | undefined;
  applicationIds?: readonly string[] | undefined;
  applicationVersionIds?: readonly string[] | undefined;
  instanceIds?: readonly string[] | undefined;
  whitelisted?: boolean | undefined;
  teams?: readonly string[] | undefined;
}

export interface PageRequest {
  offset: number;
  limit: number;
  sort: { property: 'id' | 'created' | 'last_modified' | 'account_id' | 'region'; direction: 'ASC' | 'DESC' };
}

/** The writes of one transaction; `executor` is for the audit event that commits with them. */
export interface FullstopWriteTransaction {
  readonly executor: AuditTransaction;
  /** Stores the violations not stored yet (unique key: account, region, event, instance, type); returns the new ids. */
  insertViolations(rows: readonly NewViolationRow[]): Promise<string[]>;
  /** Marks a file done; false when it already was (another replica, a replay). */
  claimFile(source: string, key: string, events: number, violations: number): Promise<boolean>;
  lockViolation(id: string): Promise<ViolationRow | undefined>;
  /**
   * The violations of `typeId` a periodic check stored (event id `<prefix>…`) in `accounts`,
   * resolved or not: what the check's run compares its findings with.
   */
  periodicViolations(
    typeId: string,
    prefix: string,
    accounts: readonly string[],
  ): Promise<PeriodicViolationRow[]>;
  /**
   * Sets `comment` on those of `ids` still open (no comment, no risk acceptance covering them:
   * a person or an acceptance that got there first wins); returns the ids it resolved.
   */
  resolveOpen(ids: readonly string[], comment: string, by: string, at: Date): Promise<string[]>;
  setComment(id: string, comment: string, by: string): Promise<ViolationRow>;
  insertInstanceLog(log: {
    account_id: string;
    region: string;
    instance_id: string;
    instance_boot_time: string;
    log_type: string;
    log_data: string;
    created_by: string;
  }): Promise<string>;
  /** What CloudTrail records and user data say about instances: which images run. */
  recordInstances(changes: readonly InstanceChange[]): Promise<void>;
}

/** Persistence of violations, the ingestion cursor and instance logs. Knows SQL, not who may do what. */
export class FullstopStore {
  readonly #db: Kysely<FullstopTables>;

  constructor(database: Database) {
    this.#db = database.kysely<FullstopTables>();
  }

  async write<T>(body: (tx: FullstopWriteTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => body(writeTransaction(trx)));
  }

  /** The files of `source` already ingested, among `keys`. */
  async ingestedAmong(source: string, keys: readonly string[]): Promise<Set<string>> {
    const done = new Set<string>();
    // Chunks keep the parameter count well below PostgreSQL's limit of 65,535.
    for (let i = 0; i < keys.length; i += 1000) {
      const rows = await this.#db
        .selectFrom('fullstop_ingested_files')
        .select('key')
        .where('source', '=', source)
        .where('key', 'in', keys.slice(i, i + 1000))
        .execute();
      for (const r of rows) done.add(r.key);
    }
    return done;
  }

  async get(id: string): Promise<ViolationRow | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    return this.#db.selectFrom('fullstop_violations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The violation stored under a unique key. */
  async findByKey(
    key: Pick<NewViolationRow, 'account_id' | 'region' | 'event_id' | 'instance_id' | 'type_id'>,
  ): Promise<ViolationRow | undefined> {
    return this.#db
      .selectFrom('fullstop_violations')
      .selectAll()
      .where('account_id', '=', key.account_id)
      .where('region', '=', key.region)
      .where('event_id', '=', key.event_id)
      .where('instance_id', '=', key.instance_id)
      .where('type_id', '=', key.type_id)
      .executeTakeFirst();
  }

  async list(filter: ViolationFilter, page: PageRequest): Promise<{ rows: ViolationRow[]; total: number }> {
    const where = (eb: Eb) => eb.and(conditions(eb, filter));
    const [rows, count] = await Promise.all([
      this.#db
        .selectFrom('fullstop_violations')
        .selectAll()
        .where(where)
        .orderBy(page.sort.property, page.sort.direction === 'ASC' ? 'asc' : 'desc')
        .orderBy('id', page.sort.direction === 'ASC' ? 'asc' : 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.#db
        .selectFrom('fullstop_violations')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where(where)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /** Open violations counted by account and type (or, within one account, by application, version and type). */
  async countByAccountAndType(
    filter: ViolationFilter,
  ): Promise<Array<{ account: string; type: string; quantity: number }>> {
    const rows = await this.#db
      .selectFrom('fullstop_violations')
      .select((eb) => ['account_id', 'type_id', eb.fn.countAll<string>().as('n')])
      .where((eb) => eb.and(conditions(eb, filter)))
      .groupBy(['account_id', 'type_id'])
      .orderBy('account_id')
      .orderBy('type_id')
      .execute();
    return rows.map((r) => ({ account: r.account_id, type: r.type_id, quantity: Number(r.n) }));
  }

  /**
   * Every violation matching `filter`, in id order, `batch` rows per query (keyset, so the
   * 100,000th row costs what the first does): for exports, which must not hold all rows at once.
   */
  async *stream(filter: ViolationFilter, batch = 1000): AsyncGenerator<ViolationRow> {
    let after: string | undefined;
    for (;;) {
      let query = this.#db
        .selectFrom('fullstop_violations')
        .selectAll()
        .where((eb) => eb.and(conditions(eb, filter)));
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query.orderBy('id').limit(batch).execute();
      yield* rows;
      if (rows.length < batch) return;
      after = String(rows[rows.length - 1]!.id);
    }
  }

  async countByApplicationAndType(
    filter: ViolationFilter,
  ): Promise<Array<{ application: string | null; version: string | null; type: string; quantity: number }>> {
    const rows = await this.#db
      .selectFrom('fullstop_violations')
      .select((eb) => [
        'application_id',
        'application_version_id',
        'type_id',
        eb.fn.countAll<string>().as('n'),
      ])
      .where((eb) => eb.and(conditions(eb, filter)))
      .groupBy(['application_id', 'application_version_id', 'type_id'])
      .orderBy('application_id')
      .orderBy('application_version_id')
      .orderBy('type_id')
      .execute();
    return rows.map((r) => ({
      application: r.application_id,
      version: r.application_version_id,
      type: r.type_id,
      quantity: Number(r.n),
    }));
  }
}

type Eb = ExpressionBuilder<FullstopTables, 'fullstop_violations'>;

function conditions(eb: Eb, f: ViolationFilter): Expression<SqlBool>[] {
  const c: Expression<SqlBool>[] = [];
  const inList = (
    column:
      'account_id' | 'type_id' | 'application_id' | 'application_version_id' | 'team_id' | 'instance_id',
    values: readonly string[],
  ) => (values.length ? eb(column, 'in', [...values]) : sql<boolean>`false`);
  if (f.accounts) c.push(inList('account_id', f.accounts));
  if (f.teams) c.push(inList('team_id', f.teams));
  if (f.typeIds) c.push(inList('type_id', f.typeIds));
  if (f.applicationIds) c.push(inList('application_id', f.applicationIds));
  if (f.applicationVersionIds) c.push(inList('application_version_id', f.applicationVersionIds));
  if (f.instanceIds) c.push(inList('instance_id', f.instanceIds));
  if (f.from) c.push(eb('created', '>=', f.from));
  if (f.to) c.push(eb('created', '<=', f.to));
  if (f.afterId !== undefined) c.push(eb('id', '>', String(f.afterId)));
  // Checked: resolved with a comment, or covered by an active risk acceptance (rule_id).
  if (f.checked !== undefined)
    c.push(
      f.checked
        ? eb.or([eb('comment', 'is not', null), eb('rule_id', 'is not', null)])
        : eb.and([eb('comment', 'is', null), eb('rule_id', 'is', null)]),
    );
  if (f.whitelisted !== undefined)
    c.push(f.whitelisted ? eb('rule_id', 'is not', null) : eb('rule_id', 'is', null));
  return c;
}

function writeTransaction(trx: Transaction<FullstopTables>): FullstopWriteTransaction {
  return {
    executor: trx,
    async insertViolations(rows) {
      if (!rows.length) return [];
      // A violation found while an active risk acceptance covers it is stored covered.
      const covered = await coverNewViolations(trx, rows);
      const ids: string[] = [];
      for (let i = 0; i < covered.length; i += 500) {
        const inserted = await trx
          .insertInto('fullstop_violations')
          .values(
            covered.slice(i, i + 500).map((r) => ({
              ...r,
              meta_info: r.meta_info === undefined ? null : JSON.stringify(r.meta_info),
              last_modified_by: r.created_by,
              ...(r.created ? { created: r.created, last_modified: r.created } : {}),
            })),
          )
          .onConflict((oc) => oc.constraint('fullstop_violations_dedup').doNothing())
          .returning('id')
          .execute();
        ids.push(...inserted.map((r) => String(r.id)));
      }
      return ids;
    },
    async claimFile(source, key, events, violations) {
      const row = await trx
        .insertInto('fullstop_ingested_files')
        .values({ source, key, events, violations })
        .onConflict((oc) => oc.columns(['source', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      return row !== undefined;
    },
    async lockViolation(id) {
      return trx
        .selectFrom('fullstop_violations')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
    },
    async setComment(id, comment, by) {
      const now = new Date();
      return trx
        .updateTable('fullstop_violations')
        .set({
          comment,
          last_modified: now,
          last_modified_by: by,
          version: sql`version + 1`,
          // A later comment rewords the resolution; the violation was resolved the first time.
          resolved_at: sql<Date>`coalesce(resolved_at, ${now})`,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },
    async periodicViolations(typeId, prefix, accounts) {
      if (!accounts.length) return [];
      const rows = await trx
        .selectFrom('fullstop_violations')
        .select([
          'id',
          'account_id',
          'region',
          'event_id',
          'instance_id',
          'comment',
          'rule_id',
          'last_modified_by',
        ])
        .where('type_id', '=', typeId)
        .where('account_id', 'in', [...accounts])
        .where(sql<boolean>`starts_with(event_id, ${prefix})`)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ ...r, id: String(r.id) }));
    },
    async resolveOpen(ids, comment, by, at) {
      if (!ids.length) return [];
      const rows = await trx
        .updateTable('fullstop_violations')
        .set({
          comment,
          last_modified: at,
          last_modified_by: by,
          version: sql`version + 1`,
          resolved_at: at,
        })
        .where('id', 'in', [...ids])
        .where('comment', 'is', null)
        .where('rule_id', 'is', null)
        .returning('id')
        .execute();
      return rows.map((r) => String(r.id));
    },
    async insertInstanceLog(log) {
      const row = await trx
        .insertInto('fullstop_instance_logs')
        .values(log)
        .returning('id')
        .executeTakeFirstOrThrow();
      return String(row.id);
    },
    async recordInstances(changes) {
      await recordInstanceChanges(trx, changes);
    },
  };
}
