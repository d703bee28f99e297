import { type Kysely, type Migration, sql } from 'kysely';

/*
 * Search weights: the id and name say what an application is (A), the subtitle is a short
 * summary (B), the description is long prose (C). The vector is a stored generated column,
 * so it can never disagree with the text it indexes.
 */
const SEARCH_VECTOR = sql`
  setweight(to_tsvector('english'::regconfig, id), 'A') ||
  setweight(to_tsvector('english'::regconfig, name), 'A') ||
  setweight(to_tsvector('english'::regconfig, coalesce(subtitle, '')), 'B') ||
  setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')`;

export const kioMigrations: Record<string, Migration> = {
  '001-applications': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('kio_applications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull())
        .addColumn('active', 'boolean', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('subtitle', 'text')
        .addColumn('description', 'text')
        .addColumn('service_url', 'text')
        .addColumn('scm_url', 'text')
        .addColumn('documentation_url', 'text')
        .addColumn('specification_url', 'text')
        .addColumn('support_url', 'text')
        .addColumn('specification_type', 'text')
        .addColumn('criticality_level', 'integer', (c) => c.notNull().defaultTo(2))
        .addColumn('publicly_accessible', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('incident_contact', 'text')
        .addColumn('required_approvers', 'integer', (c) => c.notNull().defaultTo(2))
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified_by', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('search_vector', sql`tsvector`, (c) => c.generatedAlwaysAs(SEARCH_VECTOR).stored())
        .execute();
      await db.schema.createIndex('kio_applications_team').on('kio_applications').column('team_id').execute();
      await db.schema
        .createIndex('kio_applications_last_modified')
        .on('kio_applications')
        .column('last_modified')
        .execute();
      await db.schema
        .createIndex('kio_applications_search')
        .on('kio_applications')
        .using('gin')
        .column('search_vector')
        .execute();

      await db.schema
        .createTable('kio_application_changes')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('application_id', 'text', (c) =>
          c.notNull().references('kio_applications.id').onDelete('cascade'),
        )
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .addColumn('changed_by_realm', 'text')
        .addColumn('changes', 'jsonb', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('kio_application_changes_app')
        .on('kio_application_changes')
        .columns(['application_id', 'id'])
        .execute();
    },
  },
};
