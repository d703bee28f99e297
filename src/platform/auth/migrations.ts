import type { Kysely, Migration } from 'kysely';

/** The guess throttle's one table: one row per failed guess, per throttle and key, while in its window. */
export const authMigrations: Record<string, Migration> = {
  '0001_guess_failures': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('platform_guess_failures')
        .addColumn('throttle', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('failed_at', 'timestamptz', (c) => c.notNull())
        .execute();
      // The decision reads one key's newest failures; the purge reads the oldest of a throttle.
      await db.schema
        .createIndex('platform_guess_failures_key')
        .on('platform_guess_failures')
        .columns(['throttle', 'key', 'failed_at'])
        .execute();
      await db.schema
        .createIndex('platform_guess_failures_age')
        .on('platform_guess_failures')
        .columns(['throttle', 'failed_at'])
        .execute();
    },
  },
};
