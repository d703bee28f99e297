import { type Kysely, type Migration, sql } from 'kysely';

export const essentialsMigrations: Record<string, Migration> = {
  '001-resource-types-and-scopes': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('essentials_resource_types')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('resource_owners', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('essentials_scopes')
        .addColumn('resource_type_id', 'text', (c) =>
          c.notNull().references('essentials_resource_types.id').onDelete('cascade'),
        )
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('user_information', 'text')
        .addColumn('is_resource_owner_scope', 'boolean', (c) => c.notNull())
        .addColumn('criticality_level', 'smallint', (c) => c.notNull().defaultTo(2))
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('essentials_scopes_pk', ['resource_type_id', 'id'])
        .execute();
    },
  },
  '002-resource-type-owning-team': {
    async up(db: Kysely<unknown>) {
      // The team that owns a type, fixed when it is created. Authorising against whichever Kio
      // application has the type's name *now* let anyone register that name and take the type
      // over. Types created before this migration have no owner: only administrators write them.
      await db.schema.alterTable('essentials_resource_types').addColumn('owning_team', 'text').execute();
    },
  },
};
