import { type Kysely, type Migration, sql } from 'kysely';

/** The job runner's one table: the last tick each job was claimed for. */
export const jobMigrations: Record<string, Migration> = {
  '0001_job_ticks': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('platform_job_ticks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('tick', 'bigint', (c) => c.notNull())
        .addColumn('claimed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
};
