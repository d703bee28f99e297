import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { call, pushBlob, putManifest, rawImage, sha256 } from './test-support/http.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from './test-support/registry-harness.js';

const json = { 'content-type': 'application/json' };

describeEachDatabase('Pier One quotas', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  let images: ImageBuilder;
  let image: string;
  let admin: string;
  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
    admin = await reg.issuer.token({ uid: 'admin' });
    images = await ImageBuilder.create();
    image = await images.image('q', [{ 'app/data.bin': randomBytes(50_000) }, { 'app/more.txt': 'more' }]);
  }, 60_000);
  afterAll(async () => {
    await reg?.close();
    await images?.dispose();
  });

  async function setQuota(token: string, team: string, bytes: number) {
    return call(reg, 'PUT', `/teams/${team}/quota`, {
      token,
      headers: json,
      body: JSON.stringify({ bytes }),
    });
  }
  async function usage(team: string) {
    return (await call(reg, 'GET', `/teams/${team}/usage`, { token: reg.tokens.bob })).json;
  }

  it('only platform admins set quotas; both outcomes are audited', async () => {
    const refused = await setQuota(reg.tokens.bob, 'other', 1000);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    const set = await setQuota(admin, 'other', 1000);
    expect(set.status, set.text).toBe(200);
    expect(set.json).toMatchObject({
      team: 'other',
      used_bytes: 0,
      quota_bytes: 1000,
      quota_set_by: 'admin',
    });
    const events = await reg.ctx.auditLog.query({ action: 'pierone.quota.set', targetId: 'other', limit: 5 });
    expect(events.map((e) => [e.actor, e.outcome]).sort()).toEqual([
      ['admin', 'success'],
      ['bob', 'refused'],
    ]);
    expect((await setQuota(admin, 'other', -1)).status).toBe(400);
  });

  it('skopeo sees the refusal with the numbers; usage counts each blob once per team', async () => {
    expect((await setQuota(admin, 'other', 1000)).status).toBe(200);
    const refused = await skopeo([
      ...copyArgs({ destToken: reg.tokens.bob }),
      image,
      `docker://${reg.host}/other/app:1.0`,
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /denied: quota of team other exceeded: \d+ bytes used of 1000, this push needs \d+ more/,
    );
    // Nothing over the quota was linked.
    expect((await usage('other')).used_bytes).toBeLessThanOrEqual(1000);
    const refusals = await reg.ctx.auditLog.query({
      action: 'pierone.repository.push',
      actor: 'bob',
      limit: 10,
    });
    expect(refusals.some((e) => e.outcome === 'refused')).toBe(true);

    // With room, the same push goes through and is counted, exactly its blobs' bytes.
    expect((await setQuota(admin, 'other', 10_000_000)).status).toBe(200);
    const pushed = await skopeo([
      ...copyArgs({ destToken: reg.tokens.bob }),
      image,
      `docker://${reg.host}/other/app:1.0`,
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const manifest = (
      await call(reg, 'GET', '/v2/other/app/manifests/1.0', {
        token: reg.tokens.bob,
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json as { config: { size: number }; layers: Array<{ size: number }> };
    const imageBytes = manifest.layers.reduce((sum, l) => sum + l.size, manifest.config.size);
    const once = await usage('other');
    expect(once).toMatchObject({
      used_bytes: imageBytes,
      repositories: [{ artifact: 'app', bytes: imageBytes }],
    });

    // A second repository of the team holding the same blobs: the team pays once, each repository shows them.
    const copied = await skopeo([
      ...copyArgs({ destToken: reg.tokens.bob }),
      image,
      `docker://${reg.host}/other/copy:1.0`,
    ]);
    expect(copied.code, copied.stderr).toBe(0);
    expect(await usage('other')).toMatchObject({
      used_bytes: imageBytes,
      repositories: [
        { artifact: 'app', bytes: imageBytes },
        { artifact: 'copy', bytes: imageBytes },
      ],
    });

    // /metrics shows the same numbers.
    const metrics = (await call(reg, 'GET', '/metrics')).text;
    expect(metrics).toContain(`pierone_team_usage_bytes{team="other"} ${imageBytes}`);
    expect(metrics).toContain(`pierone_repository_usage_bytes{team="other",artifact="copy"} ${imageBytes}`);
    expect(metrics).toContain('pierone_team_quota_bytes{team="other"} 10000000');
  }, 120_000);

  it('a blob upload over quota gets OCI DENIED with used, quota and this push in the detail', async () => {
    const before = (await usage('other')).used_bytes as number;
    expect((await setQuota(admin, 'other', before + 100)).status).toBe(200);
    const small = await pushBlob(reg, reg.tokens.bob, 'other/app', 'x'.repeat(100));
    expect(small.size).toBe(100);
    const data = 'y'.repeat(101);
    const over = await call(reg, 'POST', `/v2/other/app/blobs/uploads/?digest=sha256:${sha(data)}`, {
      token: reg.tokens.bob,
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(over.status).toBe(403);
    expect(over.json.errors[0]).toEqual({
      code: 'DENIED',
      message: `quota of team other exceeded: ${before + 100} bytes used of ${before + 100}, this push needs 101 more`,
      detail: { team: 'other', used_bytes: before + 100, quota_bytes: before + 100, push_bytes: 101 },
    });
    // A blob the team already holds costs nothing, even at the limit.
    await pushBlob(reg, reg.tokens.bob, 'other/copy', 'x'.repeat(100));
    // Removing the quota lifts the limit.
    expect((await call(reg, 'DELETE', '/teams/other/quota', { token: admin })).status).toBe(204);
    await pushBlob(reg, reg.tokens.bob, 'other/app', data);
    expect((await usage('other')).quota_bytes).toBeUndefined();
  });

  it('deleting a tag frees its bytes from the quota at once (the disk is for the GC); the next push fits', async () => {
    const deleter = await reg.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
    const first = await images.image('free-1', [{ 'app/one.bin': randomBytes(40_000) }]);
    const second = await images.image('free-2', [{ 'app/two.bin': randomBytes(40_000) }]);
    const push = (source: string, ref: string) =>
      skopeo([...copyArgs({ destToken: reg.tokens.alice }), source, `docker://${reg.host}/stups/${ref}`]);
    expect((await setQuota(admin, 'stups', 60_000)).status).toBe(200);
    const pushed = await push(first, 'free:1.0');
    expect(pushed.code, pushed.stderr).toBe(0);
    const used = (await usage('stups')).used_bytes as number;
    expect(used).toBeGreaterThan(40_000);

    const refused = await push(second, 'free:2.0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      new RegExp(
        `denied: quota of team stups exceeded: ${used} bytes used of 60000, this push needs \\d+ more`,
      ),
    );

    // A platform admin deletes the tag: the image is unreachable by name and stops counting.
    const deleted = await call(reg, 'DELETE', '/v2/stups/free/manifests/1.0', {
      token: deleter,
      headers: { 'x-deletion-reason': 'make room, TICKET-7' },
    });
    expect(deleted.status, deleted.text).toBe(202);
    expect(await usage('stups')).toMatchObject({ used_bytes: 0, repositories: [] });

    const again = await push(second, 'free:2.0');
    expect(again.code, again.stderr).toBe(0);
    const after = await usage('stups');
    expect(after.used_bytes).toBeGreaterThan(40_000);
    expect(after.used_bytes).toBeLessThanOrEqual(60_000);
    expect(after.repositories.map((r: { artifact: string }) => r.artifact)).toEqual(['free']);
    // /metrics agrees (a scrape reuses a read of the last second: its three gauges share it).
    await expect
      .poll(async () => (await call(reg, 'GET', '/metrics')).text, { timeout: 5000, interval: 300 })
      .toContain(`pierone_team_usage_bytes{team="stups"} ${after.used_bytes}`);

    // The first image again under a new tag: its blobs are still linked in the repository (only
    // the deleted image held them), so skopeo uploads nothing, and the manifest alone would make
    // their bytes count again: refused with the numbers, nothing written.
    const repush = await push(first, 'free:1.1');
    expect(repush.code).not.toBe(0);
    expect(repush.stderr).toMatch(
      new RegExp(
        `denied: quota of team stups exceeded: ${after.used_bytes} bytes used of 60000, this push needs \\d+ more`,
      ),
    );
    expect((await usage('stups')).used_bytes).toBe(after.used_bytes);
    const tags = await call(reg, 'GET', '/v2/stups/free/tags/list', { token: reg.tokens.alice });
    expect(tags.json.tags).toEqual(['2.0']);
  }, 120_000);

  it("a dead index takes its untagged children's bytes along; a child tagged on its own keeps counting", async () => {
    const deleter = await reg.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
    expect((await call(reg, 'DELETE', '/teams/stups/quota', { token: admin })).status).toBe(204);
    const repo = 'stups/multi';
    const amd = await rawImage(reg, reg.tokens.alice, repo);
    const arm = await rawImage(reg, reg.tokens.alice, repo);
    expect((await putManifest(reg, reg.tokens.alice, repo, amd.digest, amd.manifest)).status).toBe(201);
    expect((await putManifest(reg, reg.tokens.alice, repo, arm.digest, arm.manifest)).status).toBe(201);
    // The amd64 image is also released under a tag of its own.
    expect((await putManifest(reg, reg.tokens.alice, repo, 'amd64-1.0', amd.manifest)).status).toBe(201);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [amd, arm].map((child, i) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: child.digest,
        size: child.size,
        platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] },
      })),
    });
    const asIndex = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
    expect((await putManifest(reg, reg.tokens.alice, repo, '1.0', index, asIndex)).status).toBe(201);
    // An SBOM of the index (a referrer): kept only by its subject.
    const sbom = await rawImage(reg, reg.tokens.alice, repo, {
      subject: { digest: sha256(index), size: Buffer.byteLength(index) },
      artifactType: 'application/spdx+json',
    });
    expect((await putManifest(reg, reg.tokens.alice, repo, sbom.digest, sbom.manifest)).status).toBe(201);
    const configSize = (image: { manifest: string }) =>
      (JSON.parse(image.manifest) as { config: { size: number } }).config.size;
    const multiBytes = async () =>
      ((await usage('stups')).repositories as Array<{ artifact: string; bytes: number }>).find(
        (r) => r.artifact === 'multi',
      )?.bytes;
    expect(await multiBytes()).toBe(configSize(amd) + configSize(arm) + configSize(sbom));
    const before = (await usage('stups')).used_bytes as number;

    const deleted = await call(reg, 'DELETE', `/v2/${repo}/manifests/1.0`, {
      token: deleter,
      headers: { 'x-deletion-reason': 'multi-arch build withdrawn, TICKET-9' },
    });
    expect(deleted.status, deleted.text).toBe(202);
    // The arm64 child and the SBOM were reachable only through the index: their bytes go with it.
    const gone = configSize(arm) + configSize(sbom);
    expect(await multiBytes()).toBe(configSize(amd));
    expect((await usage('stups')).used_bytes).toBe(before - gone);

    // The index again under a new tag makes its children live again: the quota sees that as
    // this push's bytes, refused when over, counted when it fits.
    expect((await setQuota(admin, 'stups', before - gone)).status).toBe(200);
    const over = await putManifest(reg, reg.tokens.alice, repo, '1.1', index, asIndex);
    expect(over.status).toBe(403);
    expect(over.json.errors[0]).toMatchObject({
      code: 'DENIED',
      detail: { used_bytes: before - gone, push_bytes: gone },
    });
    expect((await call(reg, 'DELETE', '/teams/stups/quota', { token: admin })).status).toBe(204);
    expect((await putManifest(reg, reg.tokens.alice, repo, '1.1', index, asIndex)).status).toBe(201);
    expect(await multiBytes()).toBe(configSize(amd) + configSize(arm) + configSize(sbom));
  });
});

function sha(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}
