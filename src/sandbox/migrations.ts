import { type Kysely, type Migration, sql } from 'kysely';

export const sandboxMigrations: Record<string, Migration> = {
  '001-accounts-events': {
    async up(db: Kysely<unknown>) {
      // A mirror of the organisation's accounts: the state itself lives in the account tags
      // (AWS is the truth, the Organizations console agrees); this table serves reads and filters.
      await db.schema
        .createTable('sandbox_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('organizational_unit', 'text')
        .addColumn('organizational_unit_name', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('holder', 'text')
        .addColumn('cost_center', 'text')
        .addColumn('tags', 'jsonb', (c) => c.notNull())
        .addColumn('state_timestamps', 'jsonb', (c) => c.notNull())
        .addColumn('budget_amount', 'double precision', (c) => c.notNull())
        .addColumn('month_to_date', 'double precision')
        .addColumn('spend_day', 'text')
        .addColumn('last_purge', 'timestamptz')
        .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('sandbox_accounts_state').on('sandbox_accounts').column('state').execute();
      await db.schema
        .createIndex('sandbox_accounts_holder')
        .on('sandbox_accounts')
        .column('holder')
        .execute();
      // Lifecycle events and exceptions (incidents) of the seed, in the order they happened.
      await db.schema
        .createTable('sandbox_events')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('is_exception', 'boolean', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('details', 'jsonb', (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('sandbox_events_account')
        .on('sandbox_events')
        .columns(['account_id', 'id'])
        .execute();
      // Until when the maintenance job has looked for windows: the next run looks at (last, now].
      await db.schema
        .createTable('sandbox_job_marks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('until', 'timestamptz', (c) => c.notNull())
        .execute();
    },
  },
};
