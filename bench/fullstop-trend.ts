/**
 * fullstop.: latency of `GET /api/violation-trend` (the console's trend chart) over 100,000
 * violations of one team's ten accounts, found over the last year, four in five resolved a few
 * days later. Embedded PGlite, as `stups up` runs by default.
 *
 *   npx tsx bench/fullstop-trend.ts
 */
import { sql } from 'kysely';
import type { ImageCatalog } from '../src/fullstop/aws/images.js';
import {
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
} from '../src/fullstop/test-support/fullstop-harness.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { percentile } from './stats.js';

const VIOLATIONS = 100_000;
const SAMPLES = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

// Violations are stored directly: no rule runs, no image is looked up.
const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('the trend bench ingests no RunInstances events')),
};

const database = await openDatabase({ kind: 'pglite' });
try {
  await migrateToLatest(database, FULLSTOP_TEST_MIGRATIONS);
  const h = await createFullstopHarness(database, noImages);
  const accounts = Array.from({ length: 10 }, (_, i) => String(100000000000 + i));
  await h.teams.putTeam('team-a', { name: 'Team A', members: ['jdoe'], aws_accounts: accounts });
  const now = Date.now();
  for (let i = 0; i < VIOLATIONS; i += 5000) {
    await h.fullstop.store.write((tx) =>
      tx.insertViolations(
        Array.from({ length: Math.min(5000, VIOLATIONS - i) }, (_, j) => ({
          event_id: `bench-${i + j}`,
          account_id: accounts[(i + j) % accounts.length] ?? '100000000000',
          region: 'eu-west-1',
          instance_id: '',
          type_id: 'WRONG_REGION',
          meta_info: null,
          team_id: 'team-a',
          username: null,
          application_id: null,
          application_version_id: null,
          created_by: 'bench',
          created: new Date(now - ((i + j) % 365) * DAY_MS - ((i + j) % 86_400) * 1000),
        })),
      ),
    );
  }
  await sql`update fullstop_violations set comment = 'done', resolved_at = created + interval '3 days'
    where id % 5 <> 0`.execute(database.kysely());

  const headers = await h.as('jdoe');
  const rows: Record<string, Record<string, string | number>> = {};
  for (const days of [30, 365]) {
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      const r = await h.app.inject({ url: `/api/violation-trend?team=team-a&days=${days}`, headers });
      samples.push(performance.now() - t);
      if (r.statusCode !== 200) throw new Error(`GET /api/violation-trend answered ${r.statusCode}`);
    }
    samples.sort((a, b) => a - b);
    rows[`trend, ${days} days`] = {
      violations: VIOLATIONS,
      samples: SAMPLES,
      'p50 ms': percentile(samples, 50).toFixed(1),
      'p99 ms': percentile(samples, 99).toFixed(1),
    };
  }
  console.table(rows);
  await h.app.close();
} finally {
  await database.destroy();
}
