import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isPostgresAvailable, TEST_POSTGRES_URL } from '../test-support/databases.js';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

/*
 * Installations (and test suites) share one PostgreSQL server, each in its own schema. Kysely's
 * migrator scans every schema's tables; another installation dropping its schema during that scan
 * made the scan fail ("schema … does not exist") although nothing of ours was touched.
 */
describe('migrations on a server other installations change at the same time', async () => {
  const available = await isPostgresAvailable();
  it.skipIf(!available)(
    'succeed while other schemas with serial columns come and go',
    async () => {
      const churn = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await churn.connect();
      let stop = false;
      let dropped = 0;
      const churning = (async () => {
        while (!stop) {
          const other = `t_churn_${randomBytes(4).toString('hex')}`;
          await churn.query(`create schema ${other}`);
          for (let i = 0; i < 20; i++)
            await churn.query(`create table ${other}.t${i} (id serial primary key)`);
          await churn.query(`drop schema ${other} cascade`);
          dropped += 1;
        }
      })();
      const migrations = [
        {
          component: 'probe',
          migrations: {
            '001-probe': {
              async up(db: Kysely<unknown>) {
                await db.schema
                  .createTable('probe')
                  .addColumn('id', 'serial', (c) => c.primaryKey())
                  .execute();
              },
            },
          },
        },
      ];
      const outcomes: string[] = [];
      try {
        for (let i = 0; i < 25; i++) {
          const schema = `t_${randomBytes(6).toString('hex')}`;
          const database = await openDatabase({
            kind: 'postgres',
            url: TEST_POSTGRES_URL,
            schema,
            poolSize: 2,
          });
          try {
            await migrateToLatest(database, migrations);
            outcomes.push('ok');
          } catch (error) {
            outcomes.push((error as Error).message);
          } finally {
            await database.destroy();
            await churn.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
          }
        }
      } finally {
        stop = true;
        await churning;
        await churn.end();
      }
      expect(dropped).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    },
    120_000,
  );
});
