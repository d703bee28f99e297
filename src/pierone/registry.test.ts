import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { breakAuditFor, UNAUDITABLE } from './test-support/domain-harness.js';
import { call, pushBlob, putManifest, rawImage, sha256 } from './test-support/http.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from './test-support/registry-harness.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const scm = (revision: string) =>
  JSON.stringify({ url: 'git:git@github.com:zalando/app.git', revision, author: 'alice', status: '' });

describeEachDatabase('Pier One registry', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  let images: ImageBuilder;
  let v1: string;
  let v2: string;
  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
    images = await ImageBuilder.create();
    // Bottom layer has one scm-source.json, the top layer another: the top one wins.
    v1 = await images.image('v1', [
      { 'scm-source.json': scm('bottom'), 'app/data.txt': 'one' },
      { 'scm-source.json': scm('top'), 'app/more.txt': 'two' },
    ]);
    v2 = await images.image('v2', [{ 'app/data.txt': 'other content, no scm-source' }]);
  }, 60_000);
  afterAll(async () => {
    await reg?.close();
    await images?.dispose();
  });

  it('challenges unauthenticated clients and accepts Basic oauth2:<token>', async () => {
    const anonymous = await call(reg, 'GET', '/v2/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(
      `Bearer realm="${reg.url}/v2/token",service="pierone"`,
    );
    expect(anonymous.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(anonymous.json.errors[0].code).toBe('UNAUTHORIZED');

    const basic = await call(reg, 'GET', '/v2/', { token: reg.tokens.bob, scheme: 'basic' });
    expect(basic.status).toBe(200);
    expect(basic.headers.get('docker-distribution-api-version')).toBe('registry/2.0');

    const token = await call(reg, 'GET', '/v2/token?service=pierone&scope=repository:stups/app:pull,push', {
      token: reg.tokens.alice,
      scheme: 'basic',
    });
    expect(token.status).toBe(200);
    expect(token.json).toMatchObject({ token: reg.tokens.alice, access_token: reg.tokens.alice });
    expect(token.json.expires_in).toBeGreaterThan(3000);
    expect(token.json.issued_at).toMatch(TIMESTAMP);

    const bad = await call(reg, 'GET', '/v2/', { token: 'not-a-jwt' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('realm=');
  });

  it('round-trips an image with skopeo and serves exact manifest bytes with their digest', async () => {
    const push = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice }),
      v1,
      `docker://${reg.host}/stups/app:1.0`,
    ]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);

    const dir = await mkdtemp(join(tmpdir(), 'pull-'));
    try {
      const pull = await skopeo([
        ...copyArgs({ srcToken: reg.tokens.bob }),
        `docker://${reg.host}/stups/app:1.0`,
        `dir:${dir}`,
      ]);
      expect(pull.code).toBe(0);
      const pulled = await readFile(join(dir, 'manifest.json'));
      const served = await call(reg, 'GET', '/v2/stups/app/manifests/1.0', { token: reg.tokens.bob });
      expect(served.status).toBe(200);
      expect(served.bytes.equals(pulled)).toBe(true);
      expect(served.headers.get('docker-content-digest')).toBe(sha256(served.bytes));
      // umoci writes OCI manifests without a mediaType field; skopeo pushes them as OCI.
      expect(served.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
      for (const layer of JSON.parse(pulled.toString()).layers) {
        const blob = await readFile(join(dir, layer.digest.slice('sha256:'.length)));
        expect(sha256(blob)).toBe(layer.digest);
      }
      const head = await call(reg, 'HEAD', `/v2/stups/app/manifests/${sha256(served.bytes)}`, {
        token: reg.tokens.bob,
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(served.bytes.length));
      expect(head.headers.get('docker-content-digest')).toBe(sha256(served.bytes));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts Docker schema 2 manifests with their own content type', async () => {
    const push = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice, format: 'v2s2' }),
      v2,
      `docker://${reg.host}/stups/docker-app:1.0`,
    ]);
    expect(push.code).toBe(0);
    const served = await call(reg, 'GET', '/v2/stups/docker-app/manifests/1.0', { token: reg.tokens.bob });
    expect(served.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(served.json.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it('extracts scm-source.json from the topmost layer and serves it', async () => {
    const source = await call(reg, 'GET', '/teams/stups/artifacts/app/tags/1.0/scm-source', {
      token: reg.tokens.bob,
    });
    expect(source.status).toBe(200);
    expect(source.json).toEqual({
      url: 'git:git@github.com:zalando/app.git',
      revision: 'top',
      author: 'alice',
      status: '',
      created: expect.stringMatching(TIMESTAMP),
    });
    const none = await call(reg, 'GET', '/teams/stups/artifacts/docker-app/tags/1.0/scm-source', {
      token: reg.tokens.bob,
    });
    expect(none.status).toBe(404);
    const tags = await call(reg, 'GET', '/teams/stups/artifacts/docker-app/tags', { token: reg.tokens.bob });
    expect(tags.json[0].scm_source_present).toBe(false);
  });

  it('copies between repositories by mounting blobs', async () => {
    const copy = await skopeo([
      ...copyArgs({ srcToken: reg.tokens.alice, destToken: reg.tokens.alice }),
      `docker://${reg.host}/stups/app:1.0`,
      `docker://${reg.host}/stups/app-copy:1.0`,
    ]);
    expect(copy.code).toBe(0);
    const a = await call(reg, 'GET', '/v2/stups/app/manifests/1.0', { token: reg.tokens.bob });
    const b = await call(reg, 'GET', '/v2/stups/app-copy/manifests/1.0', { token: reg.tokens.bob });
    expect(b.bytes.equals(a.bytes)).toBe(true);
    const mounts = await reg.ctx.auditLog.query({ action: 'pierone.blob.mount', limit: 10 });
    expect(mounts.length).toBeGreaterThan(0);

    const layer = a.json.layers[0].digest;
    const mount = await call(reg, 'POST', `/v2/stups/mounted/blobs/uploads/?mount=${layer}&from=stups/app`, {
      token: reg.tokens.alice,
    });
    expect(mount.status).toBe(201);
    expect(mount.headers.get('location')).toBe(`/v2/stups/mounted/blobs/${layer}`);
    // Not mountable (unknown source): an ordinary upload session starts instead.
    const fallback = await call(
      reg,
      'POST',
      `/v2/stups/mounted/blobs/uploads/?mount=${layer}&from=stups/nothing`,
      {
        token: reg.tokens.alice,
      },
    );
    expect(fallback.status).toBe(202);
    expect(fallback.headers.get('docker-upload-uuid')).toBeTruthy();
  });

  it('names images by their config digest, as STUPS and `docker images` do, and finds them by its prefix', async () => {
    const auth = { token: reg.tokens.bob };
    // stups/app:1.0 (OCI, pushed by skopeo) and its copy in stups/app-copy are one image.
    const manifest = (await call(reg, 'GET', '/v2/stups/app/manifests/1.0', auth)).json;
    const config = manifest.config.digest as string;
    const manifestDigest = (await call(reg, 'GET', '/v2/stups/app/manifests/1.0', auth)).headers.get(
      'docker-content-digest',
    )!;
    expect(config).not.toBe(manifestDigest);
    const tags = await call(reg, 'GET', '/teams/stups/artifacts/app/tags', auth);
    expect(tags.json.map((t: { image: string }) => t.image)).toEqual([config]);
    expect((await call(reg, 'GET', '/teams/stups/artifacts/app/tags/1.0', auth)).json.image).toBe(config);
    expect((await call(reg, 'GET', '/v1/repositories/stups/app/tags', auth)).json).toEqual({ '1.0': config });

    // What `docker images` prints: sha256: and the first 12 hex digits of the config digest.
    const shortId = config.slice(0, 'sha256:'.length + 12);
    const found = await call(reg, 'GET', `/tags/${shortId}`, auth);
    expect(found.status).toBe(200);
    expect(found.json).toEqual([
      { name: '1.0', team: 'stups', artifact: 'app' },
      { name: '1.0', team: 'stups', artifact: 'app-copy' },
    ]);
    expect((await call(reg, 'GET', `/tags/${config.slice('sha256:'.length, 19)}`, auth)).json).toEqual(
      found.json,
    );
    // A prefix of the manifest digest still finds the same tags.
    const byManifest = await call(reg, 'GET', `/tags/${manifestDigest.slice(0, 19)}`, auth);
    expect(byManifest.json).toEqual(found.json);

    // A Docker schema 2 manifest's config is Docker's image config: the same rule.
    const docker = (await call(reg, 'GET', '/v2/stups/docker-app/manifests/1.0', auth)).json;
    expect(docker.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    const dockerTags = await call(reg, 'GET', '/teams/stups/artifacts/docker-app/tags', auth);
    expect(dockerTags.json[0].image).toBe(docker.config.digest);
    expect((await call(reg, 'GET', `/tags/${docker.config.digest.slice(0, 19)}`, auth)).json).toEqual([
      { name: '1.0', team: 'stups', artifact: 'docker-app' },
    ]);

    // The empty prefix fits every image: ambiguous, like any prefix that fits several.
    for (const empty of ['sha256:', 'sha256%3A']) {
      const all = await call(reg, 'GET', `/tags/${empty}`, auth);
      expect(all.status).toBe(412);
      expect(all.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('counts two manifests over one config as one image, and an index by its own digest', async () => {
    const auth = { token: reg.tokens.bob };
    const config = JSON.stringify({
      architecture: 'arm64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const a = await rawImage(reg, reg.tokens.alice, 'stups/twins', { config, annotations: { n: 'a' } });
    const b = await rawImage(reg, reg.tokens.alice, 'stups/twins', { config, annotations: { n: 'b' } });
    expect(a.config).toBe(b.config);
    expect((await putManifest(reg, reg.tokens.alice, 'stups/twins', 'a', a.manifest)).status).toBe(201);
    expect((await putManifest(reg, reg.tokens.alice, 'stups/twins', 'b', b.manifest)).status).toBe(201);
    const twins = await call(reg, 'GET', `/tags/${a.config.slice(0, 19)}`, auth);
    expect(twins.status).toBe(200);
    expect(twins.json).toEqual([
      { name: 'a', team: 'stups', artifact: 'twins' },
      { name: 'b', team: 'stups', artifact: 'twins' },
    ]);

    // An index has no single config (one per platform): its id is its own digest.
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: a.digest,
          size: a.size,
          platform: { architecture: 'arm64', os: 'linux' },
        },
      ],
    });
    const pushed = await putManifest(reg, reg.tokens.alice, 'stups/twins', 'multi', index, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
    });
    expect(pushed.status).toBe(201);
    const multi = await call(reg, 'GET', '/teams/stups/artifacts/twins/tags/multi', auth);
    expect(multi.json.image).toBe(sha256(index));
    expect((await call(reg, 'GET', `/tags/${sha256(index).slice(0, 19)}`, auth)).json).toEqual([
      { name: 'multi', team: 'stups', artifact: 'twins' },
    ]);
  });

  it('keeps tags immutable: identical re-push is fine, other content is 409 TAG_INVALID', async () => {
    const again = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice }),
      v1,
      `docker://${reg.host}/stups/app:1.0`,
    ]);
    expect(again.code).toBe(0);
    const other = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice }),
      v2,
      `docker://${reg.host}/stups/app:1.0`,
    ]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('immutable');

    const image = await rawImage(reg, reg.tokens.alice, 'stups/raw', { annotations: { n: '1' } });
    expect((await putManifest(reg, reg.tokens.alice, 'stups/raw', '1.0', image.manifest)).status).toBe(201);
    const same = await putManifest(reg, reg.tokens.alice, 'stups/raw', '1.0', image.manifest);
    expect(same.status).toBe(201);
    expect(same.headers.get('docker-content-digest')).toBe(image.digest);
    const changed = await rawImage(reg, reg.tokens.alice, 'stups/raw', { annotations: { n: '2' } });
    const conflict = await putManifest(reg, reg.tokens.alice, 'stups/raw', '1.0', changed.manifest);
    expect(conflict.status).toBe(409);
    expect(conflict.json.errors[0]).toMatchObject({
      code: 'TAG_INVALID',
      message: `tag 1.0 of stups/raw already points to ${image.digest}; tags are immutable, push a new tag`,
    });
    const still = await call(reg, 'GET', '/v2/stups/raw/manifests/1.0', { token: reg.tokens.bob });
    expect(still.headers.get('docker-content-digest')).toBe(image.digest);
    // The rejected manifest was not kept either.
    expect(
      (await call(reg, 'HEAD', `/v2/stups/raw/manifests/${changed.digest}`, { token: reg.tokens.bob }))
        .status,
    ).toBe(404);
    const failures = await reg.ctx.auditLog.query({
      action: 'pierone.tag.create',
      targetId: 'stups/raw:1.0',
      limit: 10,
    });
    expect(failures.map((e) => e.outcome).sort()).toEqual(['refused', 'success', 'success']);
  });

  it('rejects pushing "latest" and resolves reading it to the newest tag', async () => {
    const image = await rawImage(reg, reg.tokens.alice, 'stups/raw', { annotations: { n: 'latest' } });
    const latest = await putManifest(reg, reg.tokens.alice, 'stups/raw', 'latest', image.manifest);
    expect(latest.status).toBe(409);
    expect(latest.json.errors[0].code).toBe('TAG_INVALID');
    expect(latest.json.errors[0].message).toContain('"latest" cannot be pushed');
    expect((await putManifest(reg, reg.tokens.alice, 'stups/raw', '2.0', image.manifest)).status).toBe(201);
    const read = await call(reg, 'GET', '/v2/stups/raw/manifests/latest', { token: reg.tokens.bob });
    expect(read.headers.get('docker-content-digest')).toBe(image.digest);
  });

  it('lets -SNAPSHOT tags be overwritten', async () => {
    const a = await rawImage(reg, reg.tokens.alice, 'stups/snap', { annotations: { n: 'a' } });
    const b = await rawImage(reg, reg.tokens.alice, 'stups/snap', { annotations: { n: 'b' } });
    expect((await putManifest(reg, reg.tokens.alice, 'stups/snap', '1.0-SNAPSHOT', a.manifest)).status).toBe(
      201,
    );
    expect((await putManifest(reg, reg.tokens.alice, 'stups/snap', '1.0-SNAPSHOT', b.manifest)).status).toBe(
      201,
    );
    const read = await call(reg, 'GET', '/v2/stups/snap/manifests/1.0-SNAPSHOT', { token: reg.tokens.bob });
    expect(read.headers.get('docker-content-digest')).toBe(b.digest);
  });

  it('lets exactly one of many concurrent pushes of different manifests to one tag win', async () => {
    const candidates = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        rawImage(reg, reg.tokens.alice, 'stups/race', { annotations: { i: String(i) } }),
      ),
    );
    const results = await Promise.all(
      candidates.map((c) => putManifest(reg, reg.tokens.alice, 'stups/race', '1.0', c.manifest)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    const winner = candidates[results.findIndex((r) => r.status === 201)]!;
    const read = await call(reg, 'GET', '/v2/stups/race/manifests/1.0', { token: reg.tokens.bob });
    expect(read.headers.get('docker-content-digest')).toBe(winner.digest);
  });

  it('allows pushes by team members and by services of the team or with write_all only', async () => {
    const attempt = async (token: string) => {
      const r = await call(reg, 'POST', '/v2/stups/perm/blobs/uploads/', { token });
      return { status: r.status, code: r.json?.errors?.[0]?.code, message: r.json?.errors?.[0]?.message };
    };
    expect((await attempt(reg.tokens.alice)).status).toBe(202);
    expect(await attempt(reg.tokens.bob)).toEqual({
      status: 403,
      code: 'DENIED',
      message: 'bob is not a member of team stups',
    });
    expect((await attempt(reg.tokens.serviceWrite)).status).toBe(202);
    expect(await attempt(reg.tokens.serviceNoScope)).toMatchObject({ status: 403, code: 'DENIED' });
    expect(await attempt(reg.tokens.serviceOtherTeam)).toEqual({
      status: 403,
      code: 'DENIED',
      message: 'service foreign-app belongs to team other, not to stups',
    });
    expect((await attempt(reg.tokens.serviceWriteAll)).status).toBe(202);
    // skopeo as a non-member fails on the first blob.
    const denied = await skopeo([
      ...copyArgs({ destToken: reg.tokens.bob }),
      v2,
      `docker://${reg.host}/stups/perm:1.0`,
    ]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/denied|not a member/i);
    // Pulling needs a token, any valid one.
    expect((await call(reg, 'GET', '/v2/stups/app/tags/list')).status).toBe(401);
    expect(
      (await call(reg, 'GET', '/v2/stups/app/tags/list', { token: reg.tokens.serviceNoScope })).status,
    ).toBe(200);
  });

  it('does chunked uploads with Range bookkeeping, out-of-order rejection and resume', async () => {
    const data = randomBytes(300_000);
    const digest = sha256(data);
    const start = await call(reg, 'POST', '/v2/stups/chunks/blobs/uploads/', { token: reg.tokens.alice });
    expect(start.status).toBe(202);
    const id = start.headers.get('docker-upload-uuid')!;
    const location = start.headers.get('location')!;
    expect(location).toBe(`/v2/stups/chunks/blobs/uploads/${id}`);
    expect(start.headers.get('range')).toBe('0-0');

    const patch = (from: number, to: number) =>
      call(reg, 'PATCH', location, {
        token: reg.tokens.alice,
        body: data.subarray(from, to),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
      });
    const first = await patch(0, 100_000);
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-99999');
    expect(first.headers.get('location')).toBe(location);

    const outOfOrder = await patch(150_000, 200_000);
    expect(outOfOrder.status).toBe(416);
    expect(outOfOrder.json.errors[0].code).toBe('BLOB_UPLOAD_INVALID');

    const status = await call(reg, 'GET', location, { token: reg.tokens.alice });
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-99999');

    expect((await patch(100_000, 250_000)).headers.get('range')).toBe('0-249999');
    expect(
      (await call(reg, 'HEAD', `/v2/stups/chunks/blobs/${digest}`, { token: reg.tokens.alice })).status,
    ).toBe(404);
    const done = await call(reg, 'PUT', `${location}?digest=${digest}`, {
      token: reg.tokens.alice,
      body: data.subarray(250_000),
      headers: { 'content-type': 'application/octet-stream', 'content-range': '250000-299999' },
    });
    expect(done.status).toBe(201);
    expect(done.headers.get('location')).toBe(`/v2/stups/chunks/blobs/${digest}`);
    expect(done.headers.get('docker-content-digest')).toBe(digest);

    const whole = await call(reg, 'GET', `/v2/stups/chunks/blobs/${digest}`, { token: reg.tokens.bob });
    expect(whole.bytes.equals(data)).toBe(true);
    expect(whole.headers.get('docker-content-digest')).toBe(digest);
    const part = await call(reg, 'GET', `/v2/stups/chunks/blobs/${digest}`, {
      token: reg.tokens.bob,
      headers: { range: 'bytes=1000-1999' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 1000-1999/300000');
    expect(part.bytes.equals(data.subarray(1000, 2000))).toBe(true);
    const outside = await call(reg, 'GET', `/v2/stups/chunks/blobs/${digest}`, {
      token: reg.tokens.bob,
      headers: { range: 'bytes=300000-' },
    });
    expect(outside.status).toBe(416);
    const head = await call(reg, 'HEAD', `/v2/stups/chunks/blobs/${digest}`, { token: reg.tokens.bob });
    expect(head.headers.get('content-length')).toBe('300000');
    // Blobs are visible per repository.
    expect(
      (await call(reg, 'HEAD', `/v2/stups/other/blobs/${digest}`, { token: reg.tokens.bob })).status,
    ).toBe(404);
    expect((await call(reg, 'GET', location, { token: reg.tokens.alice })).status).toBe(404);
  });

  it('rejects a wrong digest and leaves nothing visible', async () => {
    const data = randomBytes(10_000);
    const wrong = sha256('something else');
    const mono = await call(reg, 'POST', `/v2/stups/wrong/blobs/uploads/?digest=${wrong}`, {
      token: reg.tokens.alice,
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(mono.status).toBe(400);
    expect(mono.json.errors[0].code).toBe('DIGEST_INVALID');

    const start = await call(reg, 'POST', '/v2/stups/wrong/blobs/uploads/', { token: reg.tokens.alice });
    const location = start.headers.get('location')!;
    const put = await call(reg, 'PUT', `${location}?digest=${wrong}`, {
      token: reg.tokens.alice,
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(400);
    expect(put.json.errors[0].code).toBe('DIGEST_INVALID');
    for (const digest of [wrong, sha256(data)]) {
      expect(
        (await call(reg, 'HEAD', `/v2/stups/wrong/blobs/${digest}`, { token: reg.tokens.alice })).status,
      ).toBe(404);
      expect(await reg.blobs.exists(digest)).toBe(false);
    }
    expect((await call(reg, 'GET', location, { token: reg.tokens.alice })).status).toBe(404);
    const badSyntax = await call(reg, 'HEAD', '/v2/stups/wrong/blobs/sha256:xyz', {
      token: reg.tokens.alice,
    });
    expect(badSyntax.status).toBe(400);
  });

  it('survives a client that dies mid-PATCH: nothing visible, a retry succeeds', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const digest = sha256(data);
    const start = await call(reg, 'POST', '/v2/stups/interrupted/blobs/uploads/', {
      token: reg.tokens.alice,
    });
    const location = start.headers.get('location')!;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${reg.url}${location}`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${reg.tokens.alice}`,
          'content-type': 'application/octet-stream',
          'content-length': String(data.length),
        },
      });
      req.on('error', () => resolve());
      req.write(data.subarray(0, 512 * 1024), () => {
        // Give the server the first half-megabyte, then vanish like a killed process.
        setImmediate(() => req.destroy());
      });
    });
    // The server notices the abort asynchronously; the upload status is what a client would ask.
    let received = -1;
    for (let i = 0; i < 100; i++) {
      const status = await call(reg, 'GET', location, { token: reg.tokens.alice });
      const range = status.headers.get('range')!;
      received = Number(range.split('-')[1]) + 1;
      if (status.status === 204) break;
    }
    expect(received).toBeLessThanOrEqual(512 * 1024);
    expect(
      (await call(reg, 'HEAD', `/v2/stups/interrupted/blobs/${digest}`, { token: reg.tokens.alice })).status,
    ).toBe(404);
    expect(await reg.blobs.exists(digest)).toBe(false);

    const retry = await pushBlob(reg, reg.tokens.alice, 'stups/interrupted', data);
    expect(retry.digest).toBe(digest);
    const back = await call(reg, 'GET', `/v2/stups/interrupted/blobs/${digest}`, { token: reg.tokens.alice });
    expect(back.bytes.equals(data)).toBe(true);
  });

  it('lists tags with n/last pagination and the catalog', async () => {
    for (const tag of ['b', 'a', 'c', 'D']) {
      const image = await rawImage(reg, reg.tokens.alice, 'stups/paged', { annotations: { tag } });
      expect((await putManifest(reg, reg.tokens.alice, 'stups/paged', tag, image.manifest)).status).toBe(201);
    }
    const all = await call(reg, 'GET', '/v2/stups/paged/tags/list', { token: reg.tokens.bob });
    expect(all.json).toEqual({ name: 'stups/paged', tags: ['D', 'a', 'b', 'c'] });
    const page = await call(reg, 'GET', '/v2/stups/paged/tags/list?n=2', { token: reg.tokens.bob });
    expect(page.json.tags).toEqual(['D', 'a']);
    expect(page.headers.get('link')).toBe('</v2/stups/paged/tags/list?n=2&last=a>; rel="next"');
    const next = await call(reg, 'GET', '/v2/stups/paged/tags/list?n=2&last=a', { token: reg.tokens.bob });
    expect(next.json.tags).toEqual(['b', 'c']);
    expect(next.headers.get('link')).toBeNull();
    const zero = await call(reg, 'GET', '/v2/stups/paged/tags/list?n=0', { token: reg.tokens.bob });
    expect(zero.json.tags).toEqual([]);
    const unknown = await call(reg, 'GET', '/v2/stups/nothing-here/tags/list', { token: reg.tokens.bob });
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].code).toBe('NAME_UNKNOWN');

    const catalog = await call(reg, 'GET', '/v2/_catalog', { token: reg.tokens.bob });
    expect(catalog.json.repositories).toEqual(
      expect.arrayContaining(['stups/app', 'stups/paged', 'stups/raw']),
    );
    const first = await call(reg, 'GET', '/v2/_catalog?n=1', { token: reg.tokens.bob });
    expect(first.json.repositories).toHaveLength(1);
    expect(first.headers.get('link')).toContain('rel="next"');
  });

  it('serves referrers of a subject and answers OCI-Subject on push', async () => {
    const subject = await rawImage(reg, reg.tokens.alice, 'stups/signed', {
      annotations: { role: 'subject' },
    });
    expect((await putManifest(reg, reg.tokens.alice, 'stups/signed', '1.0', subject.manifest)).status).toBe(
      201,
    );
    const sbom = await rawImage(reg, reg.tokens.alice, 'stups/signed', {
      subject: { digest: subject.digest, size: subject.size },
      artifactType: 'application/vnd.example.sbom.v1',
      annotations: { 'org.example.kind': 'sbom' },
    });
    const pushed = await putManifest(reg, reg.tokens.alice, 'stups/signed', sbom.digest, sbom.manifest);
    expect(pushed.status).toBe(201);
    expect(pushed.headers.get('oci-subject')).toBe(subject.digest);

    const list = await call(reg, 'GET', `/v2/stups/signed/referrers/${subject.digest}`, {
      token: reg.tokens.bob,
    });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    expect(list.json).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sbom.digest,
          size: sbom.size,
          artifactType: 'application/vnd.example.sbom.v1',
          annotations: { 'org.example.kind': 'sbom' },
        },
      ],
    });
    const filtered = await call(
      reg,
      'GET',
      `/v2/stups/signed/referrers/${subject.digest}?artifactType=other/type`,
      {
        token: reg.tokens.bob,
      },
    );
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(filtered.json.manifests).toEqual([]);
    const none = await call(reg, 'GET', `/v2/stups/signed/referrers/${sha256('x')}`, {
      token: reg.tokens.bob,
    });
    expect(none.status).toBe(200);
    expect(none.json.manifests).toEqual([]);
  });

  it('validates manifests: unknown blobs, digest mismatch, malformed JSON', async () => {
    const image = await rawImage(reg, reg.tokens.alice, 'stups/valid');
    const missing = image.manifest.replace(
      /"layers":\[\]/,
      `"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${sha256('nope')}","size":4}]`,
    );
    const unknownBlob = await putManifest(reg, reg.tokens.alice, 'stups/valid', '1.0', missing);
    expect(unknownBlob.status).toBe(400);
    expect(unknownBlob.json.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    const byWrongDigest = await putManifest(
      reg,
      reg.tokens.alice,
      'stups/valid',
      sha256('other'),
      image.manifest,
    );
    expect(byWrongDigest.status).toBe(400);
    expect(byWrongDigest.json.errors[0].code).toBe('DIGEST_INVALID');
    const malformed = await putManifest(reg, reg.tokens.alice, 'stups/valid', '1.0', '{"schemaVersion":2');
    expect(malformed.status).toBe(400);
    expect(malformed.json.errors[0].code).toBe('MANIFEST_INVALID');
    const unknown = await call(reg, 'GET', '/v2/stups/valid/manifests/9.9', { token: reg.tokens.bob });
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].code).toBe('MANIFEST_UNKNOWN');
    const badName = await call(reg, 'GET', '/v2/stups/a/b/manifests/1.0', { token: reg.tokens.bob });
    expect(badName.status).toBe(404);
    expect(badName.json.errors[0].code).toBe('NAME_INVALID');
  });

  it('takes X-SCM-Source only from tokens with application.write_all_trusted', async () => {
    const image = await rawImage(reg, reg.tokens.serviceTrusted, 'stups/trusted');
    const header = scm('from-header');
    const untrusted = await putManifest(
      reg,
      reg.tokens.serviceWriteAll,
      'stups/trusted',
      '1.0',
      image.manifest,
      {
        'x-scm-source': header,
      },
    );
    expect(untrusted.status).toBe(403);
    expect(untrusted.json.errors[0]).toMatchObject({ code: 'DENIED' });
    const trusted = await putManifest(
      reg,
      reg.tokens.serviceTrusted,
      'stups/trusted',
      '1.0',
      image.manifest,
      {
        'x-scm-source': header,
      },
    );
    expect(trusted.status).toBe(201);
    const source = await call(reg, 'GET', '/teams/stups/artifacts/trusted/tags/1.0/scm-source', {
      token: reg.tokens.bob,
    });
    expect(source.json).toMatchObject({ revision: 'from-header', author: 'alice' });
  });

  it('answers DELETE with 405 UNSUPPORTED and an explanation, everywhere', async () => {
    for (const path of [
      '/v2/stups/app/manifests/1.0',
      `/v2/stups/app/blobs/${sha256('x')}`,
      '/v2/stups/app/tags/list',
      '/v2/_catalog',
    ]) {
      const r = await call(reg, 'DELETE', path, { token: reg.tokens.alice });
      expect(r.status, path).toBe(405);
      expect(r.json.errors[0].code).toBe('UNSUPPORTED');
      expect(r.json.errors[0].message).toContain('does not delete content for teams');
    }
    const api = await call(reg, 'DELETE', '/teams/stups/artifacts/app/tags/1.0', { token: reg.tokens.alice });
    expect(api.status).toBe(405);
    expect(api.json.detail).toContain('does not delete content for teams');
    expect((await call(reg, 'GET', '/v2/stups/app/manifests/1.0', { token: reg.tokens.bob })).status).toBe(
      200,
    );
  });

  it('serves the STUPS API in the shapes clients parse', async () => {
    const auth = { token: reg.tokens.bob };
    expect((await call(reg, 'GET', '/teams')).status).toBe(401);
    expect((await call(reg, 'GET', '/teams', auth)).json).toEqual(['stups']);
    expect((await call(reg, 'GET', '/teams/stups/artifacts', auth)).json).toEqual(
      expect.arrayContaining(['app', 'app-copy', 'docker-app', 'raw']),
    );
    expect((await call(reg, 'GET', '/teams/unknown/artifacts', auth)).json).toEqual([]);
    expect((await call(reg, 'GET', '/teams/stups/artifacts/none/tags', auth)).status).toBe(404);

    const tags = await call(reg, 'GET', '/teams/stups/artifacts/raw/tags', auth);
    expect(tags.json.map((t: { name: string }) => t.name)).toEqual(['1.0', '2.0']);
    for (const tag of tags.json) {
      expect(Object.keys(tag).sort()).toEqual([
        'created',
        'created_by',
        'image',
        'name',
        'scm_source_present',
      ]);
      expect(tag.created).toMatch(TIMESTAMP);
      expect(tag.created_by).toBe('alice');
      expect(tag.image).toMatch(/^sha256:[a-f0-9]{64}$/);
    }
    const one = await call(reg, 'GET', '/teams/stups/artifacts/raw/tags/2.0', auth);
    expect(one.json).toEqual(tags.json[1]);
    expect((await call(reg, 'GET', '/teams/stups/artifacts/raw/tags/latest', auth)).json.name).toBe('2.0');

    const image = tags.json[0].image as string;
    const found = await call(reg, 'GET', `/tags/${image.slice(0, 20)}`, auth);
    expect(found.json).toEqual([{ name: '1.0', team: 'stups', artifact: 'raw' }]);
    expect((await call(reg, 'GET', `/tags/${image.slice('sha256:'.length, 30)}`, auth)).status).toBe(200);
    const zeroes = `sha256:${'0'.repeat(64)}`;
    expect((await call(reg, 'GET', `/tags/${zeroes}`, auth)).status).toBe(404);
    // Tag images until two digests share their first hex digit (at most 17): that prefix is ambiguous.
    const byFirst = new Map<string, string>();
    let shared: string | undefined;
    for (let i = 0; shared === undefined; i++) {
      const image = await rawImage(reg, reg.tokens.alice, 'stups/prefix', { annotations: { i: String(i) } });
      expect((await putManifest(reg, reg.tokens.alice, 'stups/prefix', `v${i}`, image.manifest)).status).toBe(
        201,
      );
      const first = image.digest[7]!;
      if (byFirst.has(first)) shared = first;
      byFirst.set(first, image.digest);
    }
    const ambiguous = await call(reg, 'GET', `/tags/sha256:${shared}`, auth);
    expect(ambiguous.status).toBe(412);
    expect(ambiguous.json.detail).toMatch(
      /^the prefix sha256:[a-f0-9] matches \d+ images; give more digits$/,
    );

    const legacy = await call(reg, 'GET', '/v1/repositories/stups/raw/tags', auth);
    expect(legacy.json).toEqual({ '1.0': tags.json[0].image, '2.0': tags.json[1].image });

    const swagger = await call(reg, 'GET', '/swagger.json');
    expect(swagger.json.info.title).toContain('Pier One API');
  });

  it('marks a tag production-ready for members only', async () => {
    const denied = await call(reg, 'POST', '/teams/stups/artifacts/raw/tags/1.0/production-ready', {
      token: reg.tokens.bob,
      body: JSON.stringify({ incident_id: 'INC-1' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(denied.status).toBe(403);
    const marked = await call(reg, 'POST', '/teams/stups/artifacts/raw/tags/1.0/production-ready', {
      token: reg.tokens.alice,
      body: JSON.stringify({ incident_id: 'INC-1' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(marked.status).toBe(200);
    expect(marked.json).toMatchObject({ name: '1.0', incident_id: 'INC-1' });
  });

  it('lists a tag pushed a moment ago in the same process', async () => {
    const before = await call(reg, 'GET', '/v2/stups/listed/tags/list', { token: reg.tokens.bob });
    expect(before.status).toBe(404);
    const first = await rawImage(reg, reg.tokens.alice, 'stups/listed', { annotations: { n: '1' } });
    expect((await putManifest(reg, reg.tokens.alice, 'stups/listed', '1.0', first.manifest)).status).toBe(
      201,
    );
    const one = await call(reg, 'GET', '/v2/stups/listed/tags/list', { token: reg.tokens.bob });
    expect(one.json).toEqual({ name: 'stups/listed', tags: ['1.0'] });
    const second = await rawImage(reg, reg.tokens.alice, 'stups/listed', { annotations: { n: '2' } });
    expect((await putManifest(reg, reg.tokens.alice, 'stups/listed', '2.0', second.manifest)).status).toBe(
      201,
    );
    const two = await call(reg, 'GET', '/v2/stups/listed/tags/list', { token: reg.tokens.bob });
    expect(two.json).toEqual({ name: 'stups/listed', tags: ['1.0', '2.0'] });
  });

  it('audits refused pushes with the actor, anonymous ones too', async () => {
    const denied = await call(reg, 'POST', '/v2/stups/guarded/blobs/uploads/', { token: reg.tokens.bob });
    expect(denied.status).toBe(403);
    expect(denied.json.errors[0]).toMatchObject({ code: 'DENIED' });
    const anonymous = await call(reg, 'POST', '/v2/stups/guarded/blobs/uploads/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('scope="repository:stups/guarded:pull,push"');

    const events = await reg.ctx.auditLog.query({
      service: 'pierone',
      action: 'pierone.repository.push',
      targetId: 'stups/guarded',
      limit: 10,
    });
    expect(events.map((e) => [e.actor, e.outcome, (e.details as { status: number }).status])).toEqual([
      ['anonymous', 'refused', 401],
      ['bob', 'refused', 403],
    ]);
    expect(events[1]?.request_id).toEqual(expect.any(String));
  });

  it('refuses the next push of a member removed from the team', async () => {
    reg.teams.add('crew', ['carol']);
    const carol = await reg.issuer.token({ uid: 'carol' });
    expect((await call(reg, 'POST', '/v2/crew/app/blobs/uploads/', { token: carol })).status).toBe(202);
    reg.teams.removeMember('crew', 'carol');
    const refused = await call(reg, 'POST', '/v2/crew/app/blobs/uploads/', { token: carol });
    expect(refused.status).toBe(403);
    expect(refused.json.errors[0].message).toBe('carol is not a member of team crew');
  });

  it('records every refused write once, under the name of what was attempted', async () => {
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ incident_id: 'INC-2' });
    const mark = '/teams/stups/artifacts/raw/tags/2.0/production-ready';
    const anonymousMark = await call(reg, 'POST', mark, {
      body,
      headers: { ...json, 'x-request-id': 'mark-anonymous' },
    });
    expect(anonymousMark.status).toBe(401);
    const foreignMark = await call(reg, 'POST', mark, {
      token: reg.tokens.bob,
      body,
      headers: { ...json, 'x-request-id': 'mark-bob' },
    });
    expect(foreignMark.status).toBe(403);
    const image = await rawImage(reg, reg.tokens.alice, 'stups/raw', { annotations: { n: 'refusals' } });
    const conflict = await putManifest(reg, reg.tokens.alice, 'stups/raw', '1.0', image.manifest, {
      'x-request-id': 'push-conflict',
    });
    expect(conflict.status).toBe(409);
    const anonymousPush = await call(reg, 'PUT', '/v2/stups/raw/manifests/9.0', {
      body: image.manifest,
      headers: {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'x-request-id': 'push-anonymous',
      },
    });
    expect(anonymousPush.status).toBe(401);

    const events = await reg.ctx.auditLog.query({ service: 'pierone', limit: 1000 });
    const of = (requestId: string) =>
      events
        .filter((e) => e.request_id === requestId)
        .map((e) => [e.action, e.target_id, e.actor, e.outcome, (e.details as { status?: number }).status]);
    expect(of('mark-anonymous')).toEqual([
      ['pierone.tag.production-ready', 'stups/raw:2.0', 'anonymous', 'refused', 401],
    ]);
    expect(of('mark-bob')).toEqual([
      ['pierone.tag.production-ready', 'stups/raw:2.0', 'bob', 'refused', 403],
    ]);
    expect(of('push-conflict')).toEqual([['pierone.tag.create', 'stups/raw:1.0', 'alice', 'refused', 409]]);
    expect(of('push-anonymous')).toEqual([
      ['pierone.repository.push', 'stups/raw', 'anonymous', 'refused', 401],
    ]);
  });

  it('keeps no tag and no mark whose audit event cannot be written', async () => {
    await breakAuditFor(getDatabase());
    const image = await rawImage(reg, reg.tokens.alice, 'stups/audited', { annotations: { n: 'x' } });
    const failed = await putManifest(reg, reg.tokens.alice, 'stups/audited', UNAUDITABLE, image.manifest);
    expect(failed.status).toBe(500);
    expect(failed.json.errors[0].code).toBe('UNKNOWN');
    const bob = { token: reg.tokens.bob };
    expect((await call(reg, 'HEAD', `/v2/stups/audited/manifests/${UNAUDITABLE}`, bob)).status).toBe(404);
    expect((await call(reg, 'HEAD', `/v2/stups/audited/manifests/${image.digest}`, bob)).status).toBe(404);

    expect((await putManifest(reg, reg.tokens.alice, 'stups/audited', '1.0', image.manifest)).status).toBe(
      201,
    );
    const mark = await call(reg, 'POST', '/teams/stups/artifacts/audited/tags/1.0/production-ready', {
      token: reg.tokens.alice,
      body: JSON.stringify({ incident_id: `INC-${UNAUDITABLE}` }),
      headers: { 'content-type': 'application/json' },
    });
    expect(mark.status).toBe(500);
    const tag = await call(reg, 'GET', '/teams/stups/artifacts/audited/tags/1.0', bob);
    expect(tag.json).not.toHaveProperty('incident_id');
    const list = await call(reg, 'GET', '/v2/stups/audited/tags/list', bob);
    expect(list.json).toEqual({ name: 'stups/audited', tags: ['1.0'] });
  });
});
