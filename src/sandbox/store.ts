import { type Generated, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../platform/db/database.js';
import {
  type AccountListQuery,
  type AccountState,
  COST_CENTER_TAG,
  type SandboxAccount,
  type SandboxAccountView,
  type SandboxEvent,
  type SandboxEventKind,
  type SandboxExceptionKind,
} from './contract.js';

interface AccountsTable {
  id: string;
  name: string;
  email: string;
  organizational_unit: string | null;
  organizational_unit_name: string | null;
  state: string;
  holder: string | null;
  cost_center: string | null;
  tags: unknown;
  state_timestamps: unknown;
  budget_amount: number;
  month_to_date: number | null;
  spend_day: string | null;
  last_purge: Date | null;
  synced_at: Generated<Date>;
}

interface EventsTable {
  id: Generated<string>;
  account_id: string;
  kind: string;
  is_exception: boolean;
  message: string;
  details: unknown;
  occurred_at: Date;
}

export interface SandboxTables {
  sandbox_accounts: AccountsTable;
  sandbox_events: EventsTable;
  sandbox_job_marks: { name: string; until: Date };
}

export type SandboxTransaction = Transaction<SandboxTables>;

export interface NewEvent {
  accountId: string;
  kind: SandboxEventKind | SandboxExceptionKind;
  message: string;
  details: Record<string, unknown>;
  at: Date;
}

/** sandbox's persistence: accounts (a mirror of the tags), events and incidents. No rules. */
export class SandboxStore {
  private readonly db: Kysely<SandboxTables>;

  constructor(database: Database) {
    this.db = database.kysely<SandboxTables>();
  }

  /** Runs `fn` in one transaction: a write and its audit event commit together. */
  write<T>(fn: (trx: SandboxTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async list(filter: AccountListQuery = {}): Promise<SandboxAccountView[]> {
    let query = this.db.selectFrom('sandbox_accounts').selectAll().orderBy('id');
    if (filter.state) query = query.where('state', '=', filter.state);
    if (filter.holder) query = query.where('holder', '=', filter.holder);
    if (filter.ou) {
      const ou = filter.ou;
      query = query.where((eb) =>
        eb.or([eb('organizational_unit', '=', ou), eb('organizational_unit_name', '=', ou)]),
      );
    }
    return (await query.execute()).map(toView);
  }

  async get(id: string, executor: Kysely<SandboxTables> = this.db): Promise<SandboxAccountView | undefined> {
    const row = await executor
      .selectFrom('sandbox_accounts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toView(row);
  }

  /** Writes what Organizations says about an account; spend and last purge stay. Returns whether it is new. */
  async upsertAccount(
    trx: SandboxTransaction,
    account: SandboxAccount,
    budgetAmount: number,
  ): Promise<boolean> {
    const values = {
      name: account.name,
      email: account.email,
      organizational_unit: account.organizational_unit,
      organizational_unit_name: account.organizational_unit_name,
      state: account.state,
      holder: account.holder,
      cost_center: account.cost_center,
      tags: JSON.stringify(account.tags),
      state_timestamps: JSON.stringify(account.state_timestamps),
      budget_amount: budgetAmount,
      synced_at: new Date(),
    };
    const existed = await this.get(account.id, trx);
    await trx
      .insertInto('sandbox_accounts')
      .values({ id: account.id, ...values, month_to_date: null, spend_day: null, last_purge: null })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
    return !existed;
  }

  /** A state change written to the tags: mirrored here until the next sync reads it back. */
  async setState(
    trx: SandboxTransaction,
    id: string,
    state: AccountState,
    at: Date,
    holder?: string | null,
  ): Promise<void> {
    const current = await this.get(id, trx);
    if (!current) return;
    await trx
      .updateTable('sandbox_accounts')
      .set({
        state,
        ...(holder === undefined ? {} : { holder }),
        state_timestamps: JSON.stringify({ ...current.state_timestamps, [state]: at.toISOString() }),
        ...(state === 'purged' ? { last_purge: at } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Tags written to Organizations (CSV import): merged into the mirror, the cost centre with them. */
  async mergeTags(trx: SandboxTransaction, id: string, tags: Record<string, string>): Promise<void> {
    const current = await this.get(id, trx);
    if (!current) return;
    const merged = { ...current.tags, ...tags };
    await trx
      .updateTable('sandbox_accounts')
      .set({ tags: JSON.stringify(merged), cost_center: merged[COST_CENTER_TAG] || null })
      .where('id', '=', id)
      .execute();
  }

  async setSpend(trx: SandboxTransaction, id: string, monthToDate: number, day: string): Promise<void> {
    await trx
      .updateTable('sandbox_accounts')
      .set({ month_to_date: monthToDate, spend_day: day })
      .where('id', '=', id)
      .execute();
  }

  async addEvent(trx: SandboxTransaction, event: NewEvent): Promise<number> {
    const row = await trx
      .insertInto('sandbox_events')
      .values({
        account_id: event.accountId,
        kind: event.kind,
        is_exception: event.kind.endsWith('Exception'),
        message: event.message,
        details: JSON.stringify(event.details),
        occurred_at: event.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** Events (or only exceptions) of one account or of all, newest first. */
  async events(filter: {
    accountId?: string;
    exceptionsOnly?: boolean;
    limit?: number;
    /** Occurred at or after `from` and before `until` (the monthly activity report's month). */
    from?: Date;
    until?: Date;
  }): Promise<SandboxEvent[]> {
    let query = this.db.selectFrom('sandbox_events').selectAll().orderBy('id', 'desc');
    if (filter.limit !== undefined || !filter.from) query = query.limit(filter.limit ?? 500);
    if (filter.from) query = query.where('occurred_at', '>=', filter.from);
    if (filter.until) query = query.where('occurred_at', '<', filter.until);
    if (filter.accountId) query = query.where('account_id', '=', filter.accountId);
    if (filter.exceptionsOnly) query = query.where('is_exception', '=', true);
    return (await query.execute()).map((row) => ({
      id: Number(row.id),
      account_id: row.account_id,
      kind: row.kind as SandboxEvent['kind'],
      message: row.message,
      details: json(row.details) as Record<string, unknown>,
      occurred_at: row.occurred_at.toISOString(),
    }));
  }

  /** Whether the spend check already raised this alarm for this account and day (a rerun adds none). */
  /** Whether the CloudTrail event `eventId` is already an incident of the account. */
  async hasCloudTrailIncident(accountId: string, eventId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('sandbox_events')
      .select('id')
      .where('account_id', '=', accountId)
      .where(sql<boolean>`details->>'cloudtrail_event_id' = ${eventId}`)
      .executeTakeFirst();
    return row !== undefined;
  }

  async hasBudgetAlert(accountId: string, day: string, alarm: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('sandbox_events')
      .select('id')
      .where('account_id', '=', accountId)
      .where('kind', '=', 'BudgetAlertException')
      .where(sql<boolean>`details->>'day' = ${day} and details->>'alarm' = ${alarm}`)
      .executeTakeFirst();
    return row !== undefined;
  }

  async mark(name: string): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('sandbox_job_marks')
      .select('until')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.until;
  }

  async setMark(trx: SandboxTransaction, name: string, until: Date): Promise<void> {
    await trx
      .insertInto('sandbox_job_marks')
      .values({ name, until })
      .onConflict((oc) => oc.column('name').doUpdateSet({ until }))
      .execute();
  }
}

function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function toView(row: Selectable<AccountsTable>): SandboxAccountView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    organizational_unit: row.organizational_unit,
    organizational_unit_name: row.organizational_unit_name,
    state: row.state as AccountState,
    holder: row.holder,
    cost_center: row.cost_center,
    tags: json(row.tags) as Record<string, string>,
    state_timestamps: json(row.state_timestamps) as SandboxAccount['state_timestamps'],
    budget_amount: row.budget_amount,
    month_to_date: row.month_to_date,
    last_purge: row.last_purge ? row.last_purge.toISOString() : null,
  };
}
