import { type Kysely, type Migration, sql } from 'kysely';

export const teamMigrations: Record<string, Migration> = {
  '001-teams': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('teams')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull().defaultTo('official'))
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('team_members')
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('uid', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'uid'])
        .execute();
      await db.schema.createIndex('team_members_uid').on('team_members').column('uid').execute();
      // An account belongs to at most one team; deleting the team frees its accounts.
      await db.schema
        .createTable('team_aws_accounts')
        .addColumn('account_id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.references('teams.id').onDelete('set null'))
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();
      await db.schema
        .createIndex('team_aws_accounts_team')
        .on('team_aws_accounts')
        .column('team_id')
        .execute();
    },
  },
};
