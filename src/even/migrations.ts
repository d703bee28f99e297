import { type Kysely, type Migration, sql } from 'kysely';

/** even's tables: `migrateToLatest(db, [{ component: 'even', migrations: evenMigrations }])`. */
export const evenMigrations: Record<string, Migration> = {
  '001-access-requests': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('even_access_requests')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('remote_host', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('lifetime_minutes', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz')
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('even_access_requests_created')
        .on('even_access_requests')
        .columns(['created desc', 'id desc'])
        .execute();
      await db.schema
        .createIndex('even_access_requests_user')
        .on('even_access_requests')
        .columns(['username', 'created desc'])
        .execute();
      await db.schema
        .createIndex('even_access_requests_host')
        .on('even_access_requests')
        .columns(['hostname', 'created desc'])
        .execute();
      // The expiry job looks only at live grants.
      await db.schema
        .createIndex('even_access_requests_live')
        .on('even_access_requests')
        .column('expires_at')
        .where(sql.ref('status'), '=', 'GRANTED')
        .execute();
    },
  },
  '002-created-by-realm': {
    async up(db: Kysely<unknown>) {
      // Who requested, with the realm: a service named like an employee is not that employee.
      await db.schema.alterTable('even_access_requests').addColumn('created_by_realm', 'text').execute();
    },
  },
};
