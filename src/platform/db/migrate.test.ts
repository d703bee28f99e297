import { type Kysely, sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../test-support/databases.js';
import { type ComponentMigrations, migrateToLatest } from './migrate.js';

/** A migration that counts its runs in a table of its own, so a second run would show. */
function counting(table: string): ComponentMigrations['migrations'][string] {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable(table).addColumn('id', 'integer').execute();
      await sql`insert into ${sql.table(table)} values (1)`.execute(db);
    },
  };
}

const FIRST: ComponentMigrations[] = [{ component: 'alpha', migrations: { '001-a': counting('alpha_a') } }];

describeEachDatabase('migrateToLatest', FIRST, (db) => {
  it('does nothing when every migration is applied, and runs only what is new', async () => {
    const database = db();
    await migrateToLatest(database, FIRST);
    const later: ComponentMigrations[] = [
      { component: 'alpha', migrations: { '001-a': counting('alpha_a'), '002-b': counting('alpha_b') } },
      { component: 'beta', migrations: { '001-c': counting('beta_c') } },
    ];
    await migrateToLatest(database, later);
    await migrateToLatest(database, later);
    const counts = await sql<{ table: string; n: number }>`
      select 'alpha_a' as table, count(*)::int as n from alpha_a
      union all select 'alpha_b', count(*)::int from alpha_b
      union all select 'beta_c', count(*)::int from beta_c`.execute(database.kysely());
    expect(counts.rows).toEqual([
      { table: 'alpha_a', n: 1 },
      { table: 'alpha_b', n: 1 },
      { table: 'beta_c', n: 1 },
    ]);
  });

  it('lets an older version start on a database a newer one migrated (rolling updates)', async () => {
    // The database has alpha/001 and alpha/002 and beta/001 (previous test): a version that knows
    // only alpha/001 must start, as it does beside a new version during a rolling update.
    await expect(migrateToLatest(db(), FIRST)).resolves.toBeUndefined();
  });
});
