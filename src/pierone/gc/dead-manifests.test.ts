import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAudit } from '../../platform/audit/create-audit.js';
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
import { BlobCollector, GcMetrics } from './collector.js';
import { deadManifestCollector } from './dead-manifests.js';

const alice = actorOf('alice');
const admin = actorOf('admin', { scopes: [SCOPES.adminDelete] });
const HOUR = 3600_000;

/**
 * Issue 24: deleting tags frees storage. A manifest whose every tag a platform admin deleted is
 * removed by the collector once the deletion is older than the grace period, with what only it
 * kept (an index's untagged children, a subject's referrers), and then its blobs.
 */
describeEachDatabase('Pier One dead-manifest collection', DOMAIN_MIGRATIONS, (getDatabase) => {
  let domain: TestDomain;
  let database: Database;
  let collector: BlobCollector;
  let registry: Registry;
  const { upload, push, image, index, deleteManifest } = domainImages(() => domain, alice);
  beforeAll(async () => {
    database = getDatabase();
    domain = await createTestDomain(database);
    await domain.teams.putTeam('stups', { name: 'stups', members: ['alice'] });
    registry = new Registry();
    const audit = createAudit(domain.auditLog, 'pierone', PIERONE_EVENTS);
    collector = new BlobCollector({
      database,
      blobs: domain.blobs,
      audit,
      metrics: new GcMetrics(registry),
      deadManifests: deadManifestCollector(domain.store, audit),
    });
  });
  afterAll(() => domain?.close());

  const repoNamed = (artifact: string): RepositoryName => ({ team: 'stups', artifact });
  const deleteTag = (repo: RepositoryName, tag: string) =>
    deleteManifest(admin, repo, tag, 'the build leaked a secret');
  const stored = async (repo: RepositoryName, digest: string) =>
    domain.manifests.resolve(repo, digest).then(
      () => 'present',
      (error: Error & { code?: string }) => error.code ?? error.message,
    );
  const present = (digest: string) => domain.blobs.exists(digest);

  it('removes a manifest whose every tag was deleted, after the grace period, then its own blobs; shared blobs stay', async () => {
    const repo = repoNamed('dead-image');
    const base = await upload(repo);
    const dead = await image(repo, '1.0', [base]);
    const alive = await image(repo, '2.0', [base]);
    await deleteTag(repo, '1.0');

    // Within the grace period nothing goes.
    const early = await collector.run({ graceMs: HOUR });
    expect(early.manifestsDeleted).toBe(0);
    expect(await stored(repo, dead.digest)).toBe('present');

    // The dry run lists it and changes nothing.
    const dry = await collector.run({ graceMs: 0, dryRun: true });
    expect(dry.manifestCandidates).toContainEqual({ repository: 'stups/dead-image', digest: dead.digest });
    expect(await stored(repo, dead.digest)).toBe('present');
    expect(await present(dead.own)).toBe(true);

    const before = (await registry.getSingleMetricAsString('pierone_gc_manifests_deleted_total')).match(
      / (\d+)$/m,
    );
    const run = await collector.run({ graceMs: 0 });
    expect(run.manifestsDeleted).toBeGreaterThanOrEqual(1);
    // A pull by digest answers as after an audited deletion.
    expect(await stored(repo, dead.digest)).toBe('MANIFEST_UNKNOWN');
    expect(await stored(repo, alive.digest)).toBe('present');
    // Its own blobs went in the same run; the base layer the live image uses stays.
    expect(await present(dead.own)).toBe(false);
    expect(await present(dead.config)).toBe(false);
    expect(await present(base)).toBe(true);
    expect(await present(alive.own)).toBe(true);
    const after = (await registry.getSingleMetricAsString('pierone_gc_manifests_deleted_total')).match(
      / (\d+)$/m,
    );
    expect(Number(after?.[1]) - Number(before?.[1] ?? 0)).toBe(run.manifestsDeleted);
    // One audited event for the repository, naming the manifest; the run's event counts it.
    const [event] = await domain.events('stups/dead-image');
    expect(event).toMatchObject({
      action: 'pierone.manifest.collect',
      details: { manifests: [dead.digest] },
    });
  });

  it('keeps a manifest with a tag left, and a manifest pushed by digest that was never tagged', async () => {
    const repo = repoNamed('kept');
    const twoTags = await image(repo, 'a');
    await push(repo, 'b', (await domain.manifests.resolve(repo, twoTags.digest)).content);
    await deleteTag(repo, 'a');
    const untagged = await image(repo, undefined);
    await collector.run({ graceMs: 0 });
    expect(await stored(repo, twoTags.digest)).toBe('present');
    expect(await stored(repo, untagged.digest)).toBe('present');
    expect(await present(untagged.own)).toBe(true);
  });

  it('an index whose tag was deleted takes its untagged children, except one a live index still lists', async () => {
    const repo = repoNamed('multi');
    const shared = await image(repo, undefined);
    const only = await image(repo, undefined);
    const deadIndex = await index(repo, 'v1', [shared.digest, only.digest]);
    const liveIndex = await index(repo, 'v2', [shared.digest]);
    await deleteTag(repo, 'v1');
    await collector.run({ graceMs: 0 });
    expect(await stored(repo, deadIndex)).toBe('MANIFEST_UNKNOWN');
    expect(await stored(repo, only.digest)).toBe('MANIFEST_UNKNOWN');
    expect(await present(only.own)).toBe(false);
    expect(await stored(repo, liveIndex)).toBe('present');
    expect(await stored(repo, shared.digest)).toBe('present');
    expect(await present(shared.own)).toBe(true);
  });

  it('a dead subject takes its untagged referrers with it', async () => {
    const repo = repoNamed('referred');
    const subject = await image(repo, '1.0');
    const referrer = await image(repo, undefined, [], subject.digest);
    const other = await image(repo, '2.0');
    const otherReferrer = await image(repo, undefined, [], other.digest);
    await deleteTag(repo, '1.0');
    await collector.run({ graceMs: 0 });
    expect(await stored(repo, subject.digest)).toBe('MANIFEST_UNKNOWN');
    expect(await stored(repo, referrer.digest)).toBe('MANIFEST_UNKNOWN');
    expect(await present(referrer.own)).toBe(false);
    expect(await stored(repo, otherReferrer.digest)).toBe('present');
  });

  it('a push tagging a dead manifest again, racing the collector, either keeps it whole or fails to be repeated', async () => {
    const repo = repoNamed('race');
    for (let round = 0; round < 6; round++) {
      const img = await image(repo, `old-${round}`);
      const content = (await domain.manifests.resolve(repo, img.digest)).content;
      await deleteTag(repo, `old-${round}`);
      const [pushed] = await Promise.allSettled([
        push(repo, `new-${round}`, content),
        collector.run({ graceMs: 0 }),
      ]);
      if (pushed.status === 'fulfilled') {
        // The push won: the manifest and every blob it needs are there.
        expect(await stored(repo, img.digest)).toBe('present');
        expect(await present(img.own)).toBe(true);
        expect(await present(img.config)).toBe(true);
      } else {
        // The collector won: the push was refused as a client repeats it (blobs unknown), nothing half-kept.
        expect((pushed.reason as { code?: string }).code).toBe('MANIFEST_BLOB_UNKNOWN');
        expect(await stored(repo, img.digest)).toBe('MANIFEST_UNKNOWN');
      }
    }
  });
});
