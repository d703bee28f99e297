import { utimes, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAudit } from '../../platform/audit/create-audit.js';
import type { FilesystemBlobStore } from '../../platform/blob-store/filesystem-blob-store.js';
import type { Database } from '../../platform/db/database.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import { SCOPES } from '../access.js';
import { PIERONE_EVENTS } from '../events.js';
import type { RepositoryName } from '../reference.js';
import {
  actorOf,
  createTestDomain,
  DOMAIN_MIGRATIONS,
  type TestDomain,
} from '../test-support/domain-harness.js';
import { domainImages } from '../test-support/domain-images.js';
import { sha256 } from '../test-support/http.js';
import { BlobCollector, GcMetrics } from './collector.js';

const alice = actorOf('alice');
const admin = actorOf('admin', { scopes: [SCOPES.adminDelete] });
const HOUR = 3600_000;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A gate a test opens when it is ready: `wait()` resolves once `open()` was called. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, wait: () => opened };
}

describeEachDatabase('Pier One blob garbage collection', DOMAIN_MIGRATIONS, (getDatabase, kind) => {
  let domain: TestDomain;
  let database: Database;
  let collector: BlobCollector;
  let registry: Registry;
  const { upload, manifestOf, push, image, deleteManifest } = domainImages(() => domain, alice);
  let n = 0;
  beforeAll(async () => {
    database = getDatabase();
    domain = await createTestDomain(database);
    await domain.teams.putTeam('stups', { name: 'stups', members: ['alice'] });
    registry = new Registry();
    collector = new BlobCollector({
      database,
      blobs: domain.blobs,
      audit: createAudit(domain.auditLog, 'pierone', PIERONE_EVENTS),
      metrics: new GcMetrics(registry),
    });
  });
  afterAll(() => domain?.close());

  const repoNamed = (artifact: string): RepositoryName => ({ team: 'stups', artifact });
  const present = (digest: string) => domain.blobs.exists(digest);
  /** Bytes in the store that no database row knows of, written `ageMs` ago. */
  async function strayBytes(ageMs: number): Promise<string> {
    const content = randomBytes(100 + ++n);
    const digest = sha256(content);
    const path = (domain.blobs as FilesystemBlobStore).pathOf(digest);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    const then = new Date(Date.now() - ageMs);
    await utimes(path, then, then);
    return digest;
  }

  it('keeps referenced and recent blobs, collects the rest; a dry run only lists', async () => {
    const repo = repoNamed('keep');
    const img = await image(repo, '1.0');
    const orphan = await upload(repo); // uploaded, never referenced: kept within the grace period
    const oldStray = await strayBytes(2 * HOUR);
    const newStray = await strayBytes(0);

    const dry = await collector.run({ graceMs: HOUR, dryRun: true });
    const listed = dry.candidates!.map((c) => c.digest);
    expect(listed).toContain(oldStray);
    expect(listed).not.toContain(orphan);
    expect(listed).not.toContain(newStray);
    for (const digest of img.blobs) expect(listed).not.toContain(digest);
    expect(await present(oldStray)).toBe(true);

    const graced = await collector.run({ graceMs: HOUR });
    expect(graced.deleted).toBeGreaterThanOrEqual(1);
    expect(await present(oldStray)).toBe(false);
    expect(await present(orphan)).toBe(true);
    expect(await present(newStray)).toBe(true);

    const dryZero = await collector.run({ graceMs: 0, dryRun: true });
    expect(dryZero.candidates!.map((c) => c.digest)).toEqual(expect.arrayContaining([orphan, newStray]));
    expect(dryZero.linksRemoved).toBeGreaterThanOrEqual(1);
    const zero = await collector.run({ graceMs: 0 });
    expect(zero.deleted).toBeGreaterThanOrEqual(2);
    expect(await present(orphan)).toBe(false);
    expect(await present(newStray)).toBe(false);
    expect(await domain.store.linkedBlobSize('stups/keep', orphan)).toBeUndefined();
    for (const digest of img.blobs) {
      expect(await present(digest)).toBe(true);
      expect(await domain.store.linkedBlobSize('stups/keep', digest)).toBeDefined();
    }

    const runs = await domain.auditLog.query({ service: 'pierone', action: 'pierone.gc.run', limit: 10 });
    expect(runs[0]?.details).toMatchObject({ dry_run: false, deleted: zero.deleted, scanned: zero.scanned });
    expect(runs.some((r) => (r.details as { dry_run?: boolean }).dry_run === true)).toBe(true);
    const metrics = await registry.getMetricsAsJSON();
    const deletedTotal = metrics.find((m) => m.name === 'pierone_gc_blobs_deleted_total');
    expect(deletedTotal?.values[0]?.value).toBe(graced.deleted + zero.deleted);
    expect(
      metrics.find((m) => m.name === 'pierone_gc_last_run_timestamp_seconds')?.values[0]?.value,
    ).toBeGreaterThan(0);
  });

  it('keeps a sha512 blob a manifest references and collects an unreferenced sha512 blob', async () => {
    const repo = repoNamed('sha512');
    const sha512Of = (content: Buffer) => `sha512:${createHash('sha512').update(content).digest('hex')}`;
    const layer = randomBytes(300);
    const orphan = randomBytes(301);
    for (const content of [layer, orphan]) {
      await domain.uploads.putWhole(alice, repo, Readable.from([content]), { digest: sha512Of(content) });
    }
    const config = await upload(repo, Buffer.from(JSON.stringify({ os: 'linux', test: 'sha512 layers' })));
    await push(repo, '1.0', manifestOf(config, [sha512Of(layer)]));
    const dry = await collector.run({ graceMs: 0, dryRun: true });
    const listed = dry.candidates!.map((c) => c.digest);
    expect(listed).toContain(sha512Of(orphan));
    expect(listed).not.toContain(sha512Of(layer));
    await collector.run({ graceMs: 0 });
    expect(await present(sha512Of(orphan))).toBe(false);
    expect(await present(sha512Of(layer))).toBe(true);
    expect(await domain.store.linkedBlobSize('stups/sha512', sha512Of(layer))).toBeDefined();
  });

  it('after an audited deletion, collects the blobs only that manifest used and keeps shared ones', async () => {
    const a = repoNamed('shared-a');
    const b = repoNamed('shared-b');
    const base = await upload(a);
    const first = await image(a, '1.0', [base]);
    await domain.uploads.mount(alice, b, base, 'stups/shared-a');
    const second = await image(b, '1.0', [base]);
    await deleteManifest(admin, a, first.digest);
    await collector.run({ graceMs: 0 });
    expect(await present(first.own)).toBe(false);
    expect(await present(first.config)).toBe(false);
    expect(await present(base)).toBe(true);
    for (const digest of second.blobs) expect(await present(digest)).toBe(true);
    // The repository that lost its manifest cannot serve the base layer any more; the other can.
    expect(await domain.store.linkedBlobSize('stups/shared-a', base)).toBeUndefined();
    expect(await domain.store.linkedBlobSize('stups/shared-b', base)).toBeDefined();
  });

  it('a manifest pushed after its uploaded blob was collected fails with MANIFEST_BLOB_UNKNOWN', async () => {
    const repo = repoNamed('late');
    const config = await upload(repo);
    const layer = await upload(repo);
    await collector.run({ graceMs: 0 });
    await expect(push(repo, '1.0', manifestOf(config, [layer]))).rejects.toMatchObject({
      code: 'MANIFEST_BLOB_UNKNOWN',
    });
    expect(await domain.store.tagDigest('stups', 'late', '1.0')).toBeUndefined();
  });

  if (kind !== 'postgres') return;

  /** Resolves once some session of this database waits for a row lock. */
  async function someoneWaitsForALock(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(database.kysely());
      if ((rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('nobody waited for a lock');
  }

  it('GC holds the blob, then a manifest PUT waits and fails with MANIFEST_BLOB_UNKNOWN (never succeeds)', async () => {
    const repo = repoNamed('race-put');
    const config = await upload(repo);
    const layer = await upload(repo);
    const locked = gate();
    const release = gate();
    const gc = collector.run({
      graceMs: 0,
      afterLock: async (digests) => {
        if (!digests.includes(layer)) return;
        locked.open();
        await release.wait();
      },
    });
    await locked.wait();
    // The links are still visible: the push passes its early check and blocks under lock.
    const pushing = push(repo, '1.0', manifestOf(config, [layer]));
    const outcome = pushing.then(
      () => 'pushed',
      (error: { code?: string }) => error.code,
    );
    await someoneWaitsForALock();
    release.open();
    await gc;
    expect(await outcome).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(await present(layer)).toBe(false);
    expect(await domain.store.tagDigest('stups', 'race-put', '1.0')).toBeUndefined();
  });

  it('a manifest PUT in progress holds its blobs: GC skips them, and keeps them once it committed', async () => {
    const repo = repoNamed('race-hold');
    const config = await upload(repo);
    const layer = await upload(repo);
    const content = manifestOf(config, [layer]);
    const inside = gate();
    const release = gate();
    const putting = domain.store.putManifest(
      {
        repository: 'stups/race-hold',
        digest: sha256(content),
        blobs: [config, layer],
        mediaType: MANIFEST,
        content,
        configDigest: config,
        subject: undefined,
        artifactType: undefined,
        annotations: undefined,
        scmSource: undefined,
        createdBy: 'alice',
      },
      undefined,
      async () => {
        inside.open();
        await release.wait();
      },
    );
    await inside.wait();
    await collector.run({ graceMs: 0 });
    expect(await present(layer)).toBe(true);
    release.open();
    await putting;
    await collector.run({ graceMs: 0 });
    expect(await present(layer)).toBe(true);
    expect(await present(config)).toBe(true);
    expect(await domain.store.linkedBlobSize('stups/race-hold', layer)).toBeDefined();
  });

  it('GC holds the blob, then a mount waits, finds it gone and mounts nothing', async () => {
    const from = repoNamed('race-mount-a');
    const to = repoNamed('race-mount-b');
    const layer = await upload(from);
    const locked = gate();
    const release = gate();
    const gc = collector.run({
      graceMs: 0,
      afterLock: async (digests) => {
        if (!digests.includes(layer)) return;
        locked.open();
        await release.wait();
      },
    });
    await locked.wait();
    const mounting = domain.uploads.mount(alice, to, layer, 'stups/race-mount-a');
    await someoneWaitsForALock();
    release.open();
    await gc;
    expect(await mounting).toBeUndefined();
    expect(await domain.store.linkedBlobSize('stups/race-mount-b', layer)).toBeUndefined();
  });

  it('a push racing the audited unlink never commits a manifest whose blob link is gone', async () => {
    const repo = repoNamed('race-unlink');
    const shared = await upload(repo);
    const doomed = await image(repo, '1.0', [shared]);
    const config = await upload(repo);
    const inside = gate();
    const release = gate();
    // The deletion holds the shared layer's row while its audit event is written.
    const deleting = domain.store.deleteManifest(
      'stups',
      'race-unlink',
      doomed.digest,
      { by: 'admin', reason: 'test' },
      () => [],
      async () => {
        inside.open();
        await release.wait();
      },
    );
    await inside.wait();
    const pushing = push(repo, '2.0', manifestOf(config, [shared])).then(
      () => 'pushed',
      (error: { code?: string }) => error.code,
    );
    await someoneWaitsForALock();
    release.open();
    expect((await deleting)?.unlinkedBlobs).toContain(shared);
    expect(await pushing).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(await domain.store.tagDigest('stups', 'race-unlink', '2.0')).toBeUndefined();
  });
});
