import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { call, pushBlob, putManifest } from './test-support/http.js';
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';
const SCM = { url: 'git:git@github.com:zalando/zapp.git', revision: 'cafe01', author: 'alice', status: '' };

/** A real layer: GNU tar of `files`, compressed by the `zstd` CLI. */
async function zstdLayer(dir: string, name: string, files: Record<string, string>): Promise<Buffer> {
  const root = join(dir, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const tar = join(dir, `${name}.tar`);
  execFileSync('tar', ['-cf', tar, '-C', root, ...Object.keys(files).map((p) => `./${p}`)]);
  execFileSync('zstd', ['-q', '-19', '-f', tar, '-o', `${tar}.zst`]);
  return readFile(`${tar}.zst`);
}

async function pushImage(reg: TestRegistry, repo: string, tag: string, layer: Buffer) {
  const token = reg.tokens.alice;
  const blob = await pushBlob(reg, token, repo, layer);
  const config = await pushBlob(
    reg,
    token,
    repo,
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: ZSTD_LAYER, ...blob }],
  });
  return putManifest(reg, token, repo, tag, manifest);
}

describeEachDatabase(
  'Pier One scm-source in zstd layers',
  [...KERNEL_MIGRATIONS, pieroneMigrations],
  (getDatabase) => {
    let reg: TestRegistry;
    let dir: string;
    beforeAll(async () => {
      reg = await startTestRegistry(getDatabase());
      dir = await mkdtemp(join(tmpdir(), 'zstd-layer-'));
    }, 60_000);
    afterAll(async () => {
      await reg?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('serves scm-source.json pushed in a zstd-compressed OCI layer', async () => {
      const layer = await zstdLayer(dir, 'good', {
        'app/big.bin': 'x'.repeat(2_000_000),
        'scm-source.json': JSON.stringify(SCM),
      });
      expect(layer.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
      const put = await pushImage(reg, 'stups/zapp', '1.0', layer);
      expect(put.status).toBe(201);
      const source = await call(reg, 'GET', '/teams/stups/artifacts/zapp/tags/1.0/scm-source', {
        token: reg.tokens.bob,
      });
      expect(source.status).toBe(200);
      expect(source.json).toMatchObject(SCM);
    });

    it('treats a corrupt zstd layer as having no scm-source, never failing the push', async () => {
      const layer = await zstdLayer(dir, 'bad', { 'scm-source.json': JSON.stringify(SCM) });
      // Keep the frame header, garble the compressed blocks.
      for (let i = 12; i < layer.length; i++) layer[i] = layer[i]! ^ 0x5a;
      const put = await pushImage(reg, 'stups/zbroken', '1.0', layer);
      expect(put.status).toBe(201);
      const source = await call(reg, 'GET', '/teams/stups/artifacts/zbroken/tags/1.0/scm-source', {
        token: reg.tokens.bob,
      });
      expect(source.status).toBe(404);
      const tags = await call(reg, 'GET', '/teams/stups/artifacts/zbroken/tags', { token: reg.tokens.bob });
      expect(tags.json[0].scm_source_present).toBe(false);
    });
  },
);
