/**
 * fullstop.: exports and risk acceptances over 100,000 stored violations (embedded PGlite).
 * - each export format streamed over HTTP: seconds, violations/s, bytes, and the largest heap
 *   seen while it ran (streaming keeps it flat; buffering would grow it with the export);
 * - creating an acceptance that covers 25,000 of them at once (retroactive, in one transaction),
 *   storing 5,000 new violations with 10 acceptances in force, and ending the covering one.
 *
 *   npx tsx bench/fullstop-export.ts
 */
import type { ImageCatalog } from '../src/fullstop/aws/images.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
} from '../src/fullstop/test-support/fullstop-harness.js';
import type { NewViolationRow } from '../src/fullstop/store.js';
import type { Principal } from '../src/platform/auth/principal.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';

const VIOLATIONS = 100_000;
const TYPES = ['WRONG_REGION', 'PASSWORD_USED', 'EC2_WITH_KEYPAIR', 'WRONG_AMI'];
const noImages: ImageCatalog = { describe: () => Promise.reject(new Error('not used')) };

const row = (n: number): NewViolationRow => ({
  event_id: `bench-${n}`,
  account_id: ACCOUNT_A,
  region: n % 2 ? 'eu-west-1' : 'eu-central-1',
  instance_id: `i-${n.toString(16).padStart(17, '0')}`,
  type_id: TYPES[n % TYPES.length] ?? 'WRONG_REGION',
  meta_info: { n, ami_name: `image-${n % 50}` },
  team_id: 'team-a',
  username: 'jdoe',
  application_id: 'order-engine',
  application_version_id: String(n % 7),
  created_by: 'bench',
});

const database = await openDatabase({ kind: 'pglite' });
try {
  await migrateToLatest(database, FULLSTOP_TEST_MIGRATIONS);
  const h = await createFullstopHarness(database, noImages);
  for (let i = 0; i < VIOLATIONS; i += 5000) {
    await h.fullstop.store.write((tx) =>
      tx.insertViolations(Array.from({ length: 5000 }, (_, j) => row(i + j))),
    );
  }
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  const headers = await h.as('jdoe');

  const exports: Record<string, Record<string, string | number>> = {};
  for (const format of ['csv', 'sarif', 'ocsf']) {
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapMax = heapBefore;
    const sampler = setInterval(() => {
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    }, 20);
    const t = performance.now();
    const response = await fetch(`${base}/api/violations/export?format=${format}&accounts=${ACCOUNT_A}`, {
      headers,
    });
    if (!response.ok || !response.body) throw new Error(`export ${format} answered ${response.status}`);
    let bytes = 0;
    const reader = response.body.getReader();
    for (let part = await reader.read(); !part.done; part = await reader.read())
      bytes += part.value.byteLength;
    const seconds = (performance.now() - t) / 1000;
    clearInterval(sampler);
    exports[`export ${format}`] = {
      violations: VIOLATIONS,
      seconds: seconds.toFixed(2),
      'violations/s': Math.round(VIOLATIONS / seconds),
      MB: (bytes / 1e6).toFixed(1),
      'heap growth MB': ((heapMax - heapBefore) / 1e6).toFixed(1),
    };
  }

  const jdoe: Principal = {
    uid: 'jdoe',
    realm: 'employees',
    scopes: new Set(['uid']),
    clientId: undefined,
    grantType: undefined,
    issuer: 'bench',
    tokenId: undefined,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
  const expires = new Date(Date.now() + 30 * 86_400_000);
  for (let i = 0; i < 9; i++) {
    // Acceptances in force that match nothing of the new rows: the cost of checking them.
    await h.fullstop.acceptances.create(
      jdoe,
      { criteria: { meta_info: `$[?(@.n == ${-1 - i})]` }, reason: 'bench', team: 'team-a', expires },
      'bench',
    );
  }
  let t = performance.now();
  const covering = await h.fullstop.acceptances.create(
    jdoe,
    {
      criteria: { types: ['WRONG_AMI'], image_name: '^image-\\d+$' },
      reason: 'bench',
      team: 'team-a',
      expires,
    },
    'bench',
  );
  const createSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = VIOLATIONS; i < VIOLATIONS + 5000; i += 1000) {
    await h.fullstop.store.write((tx) =>
      tx.insertViolations(Array.from({ length: 1000 }, (_, j) => row(i + j))),
    );
  }
  const insertSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const ended = await h.fullstop.acceptances.expire(jdoe, String(covering.id), 'bench', 'bench');
  const expireSeconds = (performance.now() - t) / 1000;

  console.table({
    ...exports,
    'create acceptance (retroactive)': {
      violations: covering.covered_violations,
      seconds: createSeconds.toFixed(2),
      'violations/s': Math.round(covering.covered_violations / createSeconds),
    },
    'insert under 10 acceptances': {
      violations: 5000,
      seconds: insertSeconds.toFixed(2),
      'violations/s': Math.round(5000 / insertSeconds),
    },
    'end acceptance': {
      violations: ended.covered_violations,
      seconds: expireSeconds.toFixed(2),
      'violations/s': Math.round(ended.covered_violations / expireSeconds),
    },
  });
  await h.app.close();
} finally {
  await database.destroy();
}
