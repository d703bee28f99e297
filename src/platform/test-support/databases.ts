import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Database, openDatabase } from '../db/database.js';
import { type ComponentMigrations, migrateToLatest } from '../db/migrate.js';
import { skipWithout } from './required-parts.js';

/** The PostgreSQL server tests use; CI and developer machines run one on loopback. */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let postgresAvailable: Promise<boolean> | undefined;

/** Whether the test PostgreSQL server answers; the answer is printed once when it does not. */
export function isPostgresAvailable(): Promise<boolean> {
  postgresAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch (error) {
      if (process.env.CI)
        throw new Error(`PostgreSQL at ${TEST_POSTGRES_URL} is required in CI: ${String(error)}`);
      // Throws instead when STUPS_REQUIRE names postgres.
      return !skipWithout('postgres', `${TEST_POSTGRES_URL} unreachable (${String(error)})`);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresAvailable;
}

export type DatabaseKind = 'pglite' | 'postgres';

/** A fresh, migrated database of the given kind; PostgreSQL gets a schema of its own. */
export async function openTestDatabase(
  kind: DatabaseKind,
  migrations: readonly ComponentMigrations[],
): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (kind === 'pglite') {
    const database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, migrations);
    return { database, drop: () => database.destroy() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const database = await openDatabase({ kind: 'postgres', url: TEST_POSTGRES_URL, schema, poolSize: 4 });
  await migrateToLatest(database, migrations);
  return {
    database,
    drop: async () => {
      await database.destroy();
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

/**
 * Runs a suite once on embedded PGlite and once on PostgreSQL, each with its own fresh
 * database. `body` gets a getter, because the database exists only once `beforeAll` ran.
 */
export function describeEachDatabase(
  name: string,
  migrations: readonly ComponentMigrations[],
  body: (getDatabase: () => Database, kind: DatabaseKind) => void,
): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    // Vitest awaits async suite factories, so availability is known before tests are collected.
    describe(`${name} [${kind}]`, async () => {
      if (kind === 'postgres' && !(await isPostgresAvailable())) {
        it.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`, () => {});
        return;
      }
      let opened: { database: Database; drop: () => Promise<void> } | undefined;
      beforeAll(async () => {
        opened = await openTestDatabase(kind, migrations);
      }, 60_000);
      afterAll(async () => {
        await opened?.drop();
      });
      body(() => {
        if (!opened) throw new Error('database not open');
        return opened.database;
      }, kind);
    });
  }
}
