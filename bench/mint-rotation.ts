/**
 * mint rotation throughput: applications rotated per second (a new password beside the old one,
 * written to the bucket, proven with a real password grant against the token service over
 * loopback, the old one retired after the grace), for 1,000 applications, with disk buckets and
 * with S3 buckets on s3rver; and the overlap window actually achieved (from the moment the new
 * generation was in every bucket to the end of the old one's validity). In-memory PGlite.
 *
 *   npx tsx bench/mint-rotation.ts          (MINT_BENCH_APPS=200 for a shorter run)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { type BucketStore, diskBucketStore, s3BucketStore } from '../src/mint/buckets.js';
import { createMintHarness, MINT_TEST_MIGRATIONS } from '../src/mint/test-support.js';
import { openTestDatabase } from '../src/platform/test-support/databases.js';

const APPS = Number(process.env.MINT_BENCH_APPS ?? 1000);
const BUCKET = 'bench-mint';

async function run(kind: string, buckets: BucketStore): Promise<void> {
  const db = await openTestDatabase('pglite', MINT_TEST_MIGRATIONS);
  const h = await createMintHarness(db.database, buckets);
  try {
    const ids = Array.from({ length: APPS }, (_, i) => `bench-app-${i}`);
    for (const id of ids) {
      await h.kio.registry.put({ uid: 'stups', realm: 'services' }, id, {
        team_id: 'team-a',
        active: true,
        name: id,
      });
      const put = await h.app.inject({
        method: 'PUT',
        url: `/apps/${id}`,
        headers: h.headers.admin,
        payload: { s3_buckets: [BUCKET], scopes: [{ resource_type_id: 'sales_order', scope_id: 'read' }] },
      });
      if (put.statusCode !== 201) throw new Error(`PUT /apps/${id}: ${put.statusCode} ${put.body}`);
    }
    const first = await timed(() => h.mint.rotateDue());
    h.tokens.clock.advance(2 * 3600);
    const second = await timed(() => h.mint.rotateDue());
    if (first.result.failed + second.result.failed > 0) throw new Error(`${kind}: rotations failed`);
    const windows = second.result.overlaps.map((o) => (o.previousValidUntil - o.distributedAt) / 1000);
    console.log(
      `${kind.padEnd(6)} ${APPS} apps  first sync ${(APPS / first.seconds).toFixed(1).padStart(7)} apps/s` +
        `  rotation ${(APPS / second.seconds).toFixed(1).padStart(7)} apps/s` +
        `  overlap min ${Math.min(...windows).toFixed(1)} s, max ${Math.max(...windows).toFixed(1)} s` +
        ` (grace setting ${600} s)  rotated ${second.result.passwordRotations}`,
    );
  } finally {
    await h.close();
    await db.drop();
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mint-bench-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: join(dir, 's3'),
    configureBuckets: [{ name: BUCKET }],
  });
  try {
    await run('disk', diskBucketStore(join(dir, 'buckets')));
    const { port } = await server.run();
    await run(
      's3',
      s3BucketStore(
        { endpoint: `http://127.0.0.1:${port}`, region: 'eu-central-1' },
        { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
      ),
    );
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
