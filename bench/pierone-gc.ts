/**
 * Pier One blob garbage collection: blobs scanned per second over 100,000 blobs, nine in ten
 * referenced by a manifest, one in ten left over (linked into a repository long ago, never
 * referenced). Rows are seeded straight into the store's tables and the blobs straight into a
 * filesystem blob store; on embedded PGlite and on PostgreSQL (when reachable at 127.0.0.1).
 *
 *   npx tsx bench/pierone-gc.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import { AuditLog } from '../src/platform/audit/audit-log.js';
import { createAudit } from '../src/platform/audit/create-audit.js';
import { createFilesystemBlobStore } from '../src/platform/blob-store/filesystem-blob-store.js';
import { silentLogger } from '../src/platform/logger.js';
import {
  type DatabaseKind,
  isPostgresAvailable,
  openTestDatabase,
} from '../src/platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../src/platform/test-support/service-context.js';
import { PIERONE_EVENTS } from '../src/pierone/events.js';
import { BlobCollector } from '../src/pierone/gc/collector.js';
import { pieroneMigrations } from '../src/pierone/migrations.js';

const BLOBS = Number(process.env.GC_BENCH_BLOBS ?? 100_000);
const UNREFERENCED_EVERY = 10;
const BLOBS_PER_MANIFEST = 10;
const DAY = 24 * 3600_000;

async function bench(kind: DatabaseKind): Promise<Record<string, string | number>[]> {
  const { database, drop } = await openTestDatabase(kind, [...KERNEL_MIGRATIONS, pieroneMigrations]);
  const dir = await mkdtemp(join(tmpdir(), 'gc-bench-'));
  try {
    const blobs = await createFilesystemBlobStore({ root: dir, fsync: false });
    const digests: string[] = [];
    for (let i = 0; i < BLOBS; i += 500) {
      const batch = Array.from({ length: Math.min(500, BLOBS - i) }, () => randomBytes(32));
      await Promise.all(
        batch.map(async (content) => {
          const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
          digests.push(digest);
          const path = blobs.pathOf(digest);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, content);
        }),
      );
    }
    const db = database.kysely();
    const old = new Date(Date.now() - 2 * DAY);
    for (let i = 0; i < digests.length; i += 1000) {
      const chunk = digests.slice(i, i + 1000);
      const repo = (j: number) => `team/app-${Math.floor((i + j) / 1000)}`;
      await sql`insert into pierone_blobs (digest, touched)
        values ${sql.join(chunk.map((d) => sql`(${d}, ${old})`))}`.execute(db);
      await sql`insert into pierone_blob_links (repository, digest, size, created, created_by)
        values ${sql.join(chunk.map((d, j) => sql`(${repo(j)}, ${d}, 32, ${old}, 'bench')`))}`.execute(db);
      const referenced = chunk.flatMap((d, j) =>
        (i + j) % UNREFERENCED_EVERY === 0 ? [] : [[d, j] as const],
      );
      await sql`insert into pierone_manifest_blobs (repository, manifest, digest)
        values ${sql.join(
          referenced.map(
            ([d, j]) => sql`(${repo(j)}, ${`sha256:m${Math.floor((i + j) / BLOBS_PER_MANIFEST)}`}, ${d})`,
          ),
        )}`.execute(db);
    }
    await sql`analyze`.execute(db);
    const audit = createAudit(new AuditLog(database, silentLogger()), 'pierone', PIERONE_EVENTS);
    const collector = new BlobCollector({ database, blobs, audit });
    const rows: Record<string, string | number>[] = [];
    for (const [name, dryRun] of [
      ['dry run', true],
      ['collect', false],
      ['collect again (nothing left)', false],
    ] as const) {
      const started = performance.now();
      const result = await collector.run({ graceMs: DAY, dryRun });
      const seconds = (performance.now() - started) / 1000;
      rows.push({
        database: kind,
        run: name,
        scanned: result.scanned,
        deleted: result.deleted,
        'links removed': result.linksRemoved,
        seconds: Number(seconds.toFixed(2)),
        'blobs/s': Math.round(result.scanned / seconds),
      });
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await drop();
  }
}

const rows = await bench('pglite');
if (await isPostgresAvailable()) rows.push(...(await bench('postgres')));
else console.log('PostgreSQL not reachable at 127.0.0.1:5432: PGlite only');
console.log(
  `\nPier One GC over ${BLOBS.toLocaleString('en')} blobs (${100 / UNREFERENCED_EVERY}% unreferenced)`,
);
console.table(rows);
