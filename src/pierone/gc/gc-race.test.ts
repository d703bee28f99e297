import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/database.js';
import { isPostgresAvailable, openTestDatabase } from '../../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { pieroneMigrations } from '../migrations.js';
import {
  copyArgs,
  ImageBuilder,
  run,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from '../test-support/registry-harness.js';

/**
 * Real clients racing the collector: skopeo pushes umoci-built images that share a base layer
 * into a few repositories, an admin deletes manifests through the audited path in between, and
 * garbage collection with a grace period of 0 runs all the time. Pushes may fail (their blobs
 * were collected before their manifest came), but every manifest Pier One serves afterwards
 * must have all its blobs, pulled byte-identical, and nothing unreferenced may stay.
 */
describe('Pier One GC racing skopeo pushes [postgres]', async () => {
  if (!(await isPostgresAvailable())) {
    it.skip('PostgreSQL is not reachable', () => {});
    return;
  }
  let database: Database;
  let drop: () => Promise<void>;
  let registry: TestRegistry;
  let builder: ImageBuilder;
  let adminToken: string;
  let work: string;
  const images: string[] = [];

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase('postgres', [...KERNEL_MIGRATIONS, pieroneMigrations]));
    registry = await startTestRegistry(database);
    adminToken = await registry.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
    builder = await ImageBuilder.create();
    work = await mkdtemp(join(tmpdir(), 'gc-race-'));
    const base = await builder.image('base', [{ 'base.txt': 'shared base layer\n'.repeat(500) }]);
    images.push(base);
    // Images over the same base layer: tag the base, then add a layer of their own.
    for (let i = 0; i < 5; i++) {
      const tag = `v${i}`;
      const ref = `${builder.layout}:${tag}`;
      await mustRun('umoci', ['tag', '--image', `${builder.layout}:base`, tag]);
      const bundle = join(builder.dir, `bundle-${tag}`);
      await mustRun('umoci', ['unpack', '--rootless', '--image', ref, bundle]);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(bundle, 'rootfs', 'app.txt'), `app ${i}\n`.repeat(200 + i));
      await mustRun('umoci', ['repack', '--image', ref, bundle]);
      await rm(bundle, { recursive: true, force: true });
      images.push(`oci:${ref}`);
    }
  }, 180_000);

  afterAll(async () => {
    await builder?.dispose();
    await registry?.close();
    await drop?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('every served manifest keeps all its blobs; unreferenced blobs are gone', async () => {
    let collecting = true;
    let runs = 0;
    const gc = (async () => {
      while (collecting) {
        await registry.service.collectGarbage({ graceMs: 0 });
        runs++;
        // Collections at random moments, so that some pushes fit between two of them.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
      }
    })();

    const pushed = new Map<string, string>(); // `repo:tag` → source image
    let failures = 0;
    const pushOne = async (image: string, repo: string, tag: string) => {
      for (let attempt = 0; attempt < 6; attempt++) {
        const result = await skopeo([
          ...copyArgs({ destToken: registry.tokens.alice }),
          image,
          `docker://${registry.host}/${repo}:${tag}`,
        ]);
        if (result.code === 0) {
          pushed.set(`${repo}:${tag}`, image);
          return;
        }
        failures++;
        if (failures <= 3) console.info(`push failed (retried): ${result.stderr.trim().split('\n').at(-1)}`);
      }
    };
    const deleteOne = async (repo: string, tag: string) => {
      const digest = (
        await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
          method: 'HEAD',
          headers: {
            authorization: `Bearer ${registry.tokens.alice}`,
            accept: 'application/vnd.oci.image.manifest.v1+json',
          },
        })
      ).headers.get('docker-content-digest');
      if (!digest) return;
      const answer = await fetch(
        `${registry.url}/teams/stups/artifacts/${repo.split('/')[1]}/manifests/${digest}?reason=gc-race`,
        {
          method: 'DELETE',
          headers: { authorization: `Bearer ${adminToken}` },
        },
      );
      expect(answer.status).toBe(200);
      // Every tag on that manifest goes with it: the same image pushed under other tags.
      const image = pushed.get(`${repo}:${tag}`);
      for (const [key, source] of [...pushed])
        if (key.startsWith(`${repo}:`) && source === image) pushed.delete(key);
    };

    const repos = ['stups/race-a', 'stups/race-b', 'stups/race-c'];
    for (let round = 0; round < 4; round++) {
      // Three pushers in parallel, each into its own repository, sharing the base layer.
      await Promise.all(
        repos.map(async (repo, r) => {
          for (let i = 0; i < images.length; i++) {
            const image = images[(i + r + round) % images.length]!;
            await pushOne(image, repo, `r${round}-${i}`);
            if (i % 3 === 2) await deleteOne(repo, `r${round}-${i - 1}`);
          }
        }),
      );
    }
    collecting = false;
    await gc;
    await registry.service.collectGarbage({ graceMs: 0 });
    expect(runs).toBeGreaterThan(2);
    expect(pushed.size).toBeGreaterThan(repos.length * 4);

    // Every tag served pulls completely, byte-identical to what was pushed.
    let served = 0;
    for (const repo of repos) {
      const list = (await (
        await fetch(`${registry.url}/v2/${repo}/tags/list`, {
          headers: { authorization: `Bearer ${registry.tokens.alice}` },
        })
      ).json()) as { tags?: string[] };
      for (const tag of list.tags ?? []) {
        const source = pushed.get(`${repo}:${tag}`);
        expect(source, `${repo}:${tag} is served but was never pushed successfully`).toBeDefined();
        const dir = join(work, `${repo.replace('/', '_')}-${tag}`);
        const pulled = await skopeo([
          ...copyArgs({ srcToken: registry.tokens.alice }),
          `docker://${registry.host}/${repo}:${tag}`,
          `dir:${dir}`,
        ]);
        expect(pulled.code, pulled.stderr).toBe(0);
        const original = join(work, `src-${repo.replace('/', '_')}-${tag}`);
        expect((await skopeo(['copy', source!, `dir:${original}`])).code).toBe(0);
        const diff = await run('diff', ['-r', '-x', 'version', original, dir]);
        expect(diff.code, diff.stdout).toBe(0);
        served++;
      }
    }
    expect(served).toBe(pushed.size);

    // Nothing unreferenced stays: the store holds exactly the blobs of the stored manifests.
    const { rows } = await sql<{
      digest: string;
    }>`select distinct digest from pierone_manifest_blobs`.execute(database.kysely());
    const referenced = new Set(rows.map((r) => r.digest));
    const stored = new Set<string>();
    for await (const page of registry.blobs.list()) for (const blob of page) stored.add(blob.digest);
    expect([...stored].sort()).toEqual([...referenced].sort());
    // Pushes did race the collector: report how often one had to be repeated.
    console.info(
      `gc race: ${runs} collections, ${pushed.size} images served, ${failures} push attempts failed`,
    );
  }, 600_000);
});

async function mustRun(command: string, args: string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
}
