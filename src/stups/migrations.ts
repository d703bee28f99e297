import type { Kysely, Migration } from 'kysely';

/** State of the installation itself, e.g. which org file was seeded last. */
export const runtimeMigrations: Record<string, Migration> = {
  '001-platform-state': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('platform_state')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
