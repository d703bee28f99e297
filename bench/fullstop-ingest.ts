/**
 * fullstop.: CloudTrail events ingested per second (files of 10,000 events, every rule on, AMIs
 * looked up in moto's EC2 on loopback), and the p99 latency of `GET /api/violations` over
 * 100,000 stored violations. Embedded PGlite, as `stups up` runs by default.
 *
 *   npx tsx bench/fullstop-ingest.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ec2ImageCatalog } from '../src/fullstop/aws/images.js';
import { FolderSource } from '../src/fullstop/ingestion.js';
import * as records from '../src/fullstop/test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
} from '../src/fullstop/test-support/fullstop-harness.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { startMoto, TAUPAGE_IMAGES } from '../src/senza/test-support/moto.js';
import { percentile } from './stats.js';

const FILES = 3;
const EVENTS_PER_FILE = 10_000;
const VIOLATIONS = 100_000;
const SAMPLES = 200;

/** A mix like a busy account's trail: mostly harmless calls, some launches, logins and changes. */
function event(i: number): records.Record {
  switch (i % 10) {
    case 0:
      return records.runInstances({
        imageId: TAUPAGE_IMAGES.latest.id,
        keyName: i % 20 === 0 ? 'k' : undefined,
      });
    case 1:
      return records.consoleLogin({ type: i % 3 === 0 ? 'IAMUser' : 'AssumedRole' });
    case 2:
      return records.authorizeIngress({
        from: i % 4 === 0 ? 22 : 443,
        to: i % 4 === 0 ? 22 : 443,
        cidr: '0.0.0.0/0',
      });
    case 3:
      return records.iamRoleEvent('PutRolePolicy', { roleName: i % 6 === 0 ? 'fullstop' : 'app-role' });
    default:
      return records.cloudTrailEvent('StartLogging');
  }
}

const moto = await startMoto();
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
const root = await mkdtemp(join(tmpdir(), 'fullstop-bench-'));
const database = await openDatabase({ kind: 'pglite' });
const images = new Ec2ImageCatalog({ region: 'eu-west-1', endpoint: moto.endpoint });
try {
  await migrateToLatest(database, FULLSTOP_TEST_MIGRATIONS);
  const h = await createFullstopHarness(database, images);
  for (let f = 0; f < FILES; f++) {
    const batch = Array.from({ length: EVENTS_PER_FILE }, (_, i) => event(f * EVENTS_PER_FILE + i));
    await records.writeCloudTrailFile(
      root,
      {
        account: ACCOUNT_A,
        region: 'eu-west-1',
        day: '2026-11-27',
        name: `20261127T10${String(f).padStart(2, '0')}Z_bench`,
      },
      batch,
    );
  }
  const started = performance.now();
  const run = await h.fullstop.ingestion.ingestPending(new FolderSource(root), FILES);
  const seconds = (performance.now() - started) / 1000;
  if (run.failed.length) throw new Error(`ingestion failed: ${JSON.stringify(run.failed)}`);
  const events = run.files.reduce((n, f) => n + f.events, 0);
  const found = run.files.reduce((n, f) => n + f.violations, 0);

  // Fill up to 100,000 violations over ten accounts, then page through them as clients do.
  const have = (
    await h.fullstop.store.list({}, { offset: 0, limit: 1, sort: { property: 'id', direction: 'ASC' } })
  ).total;
  const accounts = Array.from({ length: 10 }, (_, i) => String(100000000000 + i));
  const types = ['WRONG_REGION', 'PASSWORD_USED', 'EC2_WITH_KEYPAIR', 'WRONG_AMI'];
  for (let i = have; i < VIOLATIONS; i += 5000) {
    await h.fullstop.store.write((tx) =>
      tx.insertViolations(
        Array.from({ length: Math.min(5000, VIOLATIONS - i) }, (_, j) => ({
          event_id: `bench-${i + j}`,
          account_id: accounts[(i + j) % accounts.length] ?? ACCOUNT_A,
          region: 'eu-west-1',
          instance_id: '',
          type_id: types[(i + j) % types.length] ?? 'WRONG_REGION',
          meta_info: { n: i + j },
          team_id: 'team-a',
          username: null,
          application_id: null,
          application_version_id: null,
          created_by: 'bench',
        })),
      ),
    );
  }
  const headers = await h.as('jdoe');
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const two = `${accounts[i % 10] ?? ''},${accounts[(i + 1) % 10] ?? ''}`;
    const url = `/api/violations?size=20&sort=id,DESC&from=2000-01-01T00:00:00.000000Z&accounts=${two}`;
    const t = performance.now();
    const r = await h.app.inject({ url, headers });
    samples.push(performance.now() - t);
    if (r.statusCode !== 200) throw new Error(`GET /api/violations answered ${r.statusCode}`);
  }
  samples.sort((a, b) => a - b);
  console.table({
    ingestion: {
      files: FILES,
      events,
      violations: found,
      seconds: seconds.toFixed(2),
      'events/s': Math.round(events / seconds),
    },
    'GET /api/violations': {
      violations: VIOLATIONS,
      samples: SAMPLES,
      'p50 ms': percentile(samples, 50).toFixed(1),
      'p99 ms': percentile(samples, 99).toFixed(1),
    },
  });
  await h.app.close();
} finally {
  images.dispose();
  await database.destroy();
  await rm(root, { recursive: true, force: true });
  await moto.stop();
}
