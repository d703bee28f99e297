import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3BlobStore, type S3BlobStore } from '../platform/blob-store/s3-blob-store.js';
import { type Database, openDatabase } from '../platform/db/database.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import {
  isPostgresAvailable,
  openTestDatabase,
  TEST_POSTGRES_URL,
} from '../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { createTestIssuer, type TestIssuer } from '../platform/test-support/test-issuer.js';
import { parsePierOneConfig } from './config.js';
import { pieroneMigrations } from './migrations.js';
import { createPierOneService, type PierOneService } from './service.js';
import { MemoryApplicationDirectory, MemoryTeamDirectory } from './test-support/directories.js';
import { sha256 } from './test-support/http.js';
import { copyArgs, ImageBuilder, skopeo } from './test-support/registry-harness.js';

/** One Pier One replica: its own database pool, S3 client and staging directory, one bucket. */
interface Replica {
  url: string;
  app: HttpApp;
  service: PierOneService;
  blobs: S3BlobStore;
  database: Database;
  ctx: ServiceContext;
  closed: boolean;
}

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Round-robin HTTP proxy, request by request (not connection by connection), with no
 * stickiness: consecutive requests of one client, even on one kept-alive connection, land on
 * different replicas. Replicas marked closed are skipped, as a load balancer's health check would.
 */
function roundRobinProxy(replicas: Replica[]): Promise<{ url: string; server: Server; hits: number[] }> {
  const hits = replicas.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    let index = next++ % replicas.length;
    for (let i = 0; i < replicas.length && replicas[index]!.closed; i++)
      index = (index + 1) % replicas.length;
    hits[index]!++;
    const target = new URL(replicas[index]!.url);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, server, hits });
    });
  });
}

describe('Pier One replicas on PostgreSQL and S3 (s3rver)', async () => {
  if (!(await isPostgresAvailable())) {
    it.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`, () => {});
    return;
  }
  let dir: string;
  let s3: S3rver;
  let issuer: TestIssuer;
  let token: string;
  let drop: () => Promise<void>;
  let proxy: { url: string; server: Server; hits: number[] };
  const replicas: Replica[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pierone-replicas-'));
    s3 = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'blobs' }],
    });
    const { port: s3Port } = await s3.run();
    issuer = await createTestIssuer();
    token = await issuer.token({ uid: 'alice' });
    const opened = await openTestDatabase('postgres', [...KERNEL_MIGRATIONS, pieroneMigrations]);
    drop = opened.drop;
    const schema = await opened.database
      .kysely()
      .selectNoFrom((eb) => eb.fn<string>('current_schema').as('schema'))
      .executeTakeFirstOrThrow();
    for (let i = 0; i < 3; i++) {
      // The first replica uses the migrated database; the others open pools of their own on it.
      const database =
        i === 0
          ? opened.database
          : await openDatabase({
              kind: 'postgres',
              url: TEST_POSTGRES_URL,
              schema: schema.schema,
              poolSize: 4,
            });
      const blobs = await createS3BlobStore({
        bucket: 'blobs',
        endpoint: `http://127.0.0.1:${s3Port}`,
        region: 'eu-central-1',
        forcePathStyle: true,
        credentials,
        stagingDir: join(dir, `staging-${i}`),
        partSize: 5 * 1024 * 1024,
      });
      const ctx = createTestContext(database, issuer.verifier);
      const service = createPierOneService(ctx, {
        teams: new MemoryTeamDirectory({ stups: ['alice'] }),
        applications: new MemoryApplicationDirectory({}),
        blobs,
        config: parsePierOneConfig({}),
      });
      const app = await service.createApp();
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      replicas.push({ url: `http://127.0.0.1:${port}`, app, service, blobs, database, ctx, closed: false });
    }
    proxy = await roundRobinProxy(replicas);
    // Clients are sent to the token endpoint behind the load balancer, not to one replica.
    for (const r of replicas) r.ctx.urls = { ...r.ctx.urls, pierone: proxy.url };
  }, 60_000);

  afterAll(async () => {
    proxy?.server.close();
    for (const [i, r] of replicas.entries()) {
      if (!r.closed) await r.app.close();
      if (i > 0) await r.database.destroy();
    }
    await drop?.();
    await s3?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const A = () => replicas[0]!;
  const B = () => replicas[1]!;
  const C = () => replicas[2]!;

  function send(
    r: Replica,
    method: string,
    path: string,
    body?: Buffer,
    headers: Record<string, string> = {},
  ) {
    return fetch(`${r.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(body ? { body: new Uint8Array(body) } : {}),
    });
  }

  async function start(r: Replica): Promise<string> {
    const answer = await send(r, 'POST', '/v2/stups/app/blobs/uploads/');
    expect(answer.status).toBe(202);
    return answer.headers.get('location')!;
  }

  function patch(r: Replica, location: string, chunk: Buffer, offset: number) {
    return send(r, 'PATCH', location, chunk, {
      'content-type': 'application/octet-stream',
      'content-range': `${offset}-${offset + chunk.length - 1}`,
    });
  }

  async function partsOf(id: string): Promise<string[]> {
    const listed = await A().blobs.client.send(
      new ListObjectsV2Command({ Bucket: 'blobs', Prefix: `uploads/${id}/` }),
    );
    return (listed.Contents ?? []).map((o) => o.Key!);
  }

  it('starts an upload on A, continues it on B and C, finishes it on A; every replica serves the blob', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const [one, two] = [data.subarray(0, 1024 * 1024), data.subarray(1024 * 1024, 2 * 1024 * 1024)];
    const location = await start(A());
    const id = location.split('/').at(-1)!;
    const onB = await patch(B(), location, Buffer.from(one), 0);
    expect(onB.status).toBe(202);
    expect(onB.headers.get('range')).toBe(`0-${one.length - 1}`);
    const onC = await patch(C(), location, Buffer.from(two), one.length);
    expect(onC.status).toBe(202);
    const status = await send(A(), 'GET', location);
    expect(status.headers.get('range')).toBe(`0-${2 * 1024 * 1024 - 1}`);
    expect(await partsOf(id)).toHaveLength(2);

    const digest = sha256(data);
    const put = await send(
      A(),
      'PUT',
      `${location}?digest=${digest}`,
      Buffer.from(data.subarray(2 * 1024 * 1024)),
      { 'content-type': 'application/octet-stream' },
    );
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    for (const r of replicas) {
      const got = await send(r, 'GET', `/v2/stups/app/blobs/${digest}`);
      expect(got.status).toBe(200);
      const bytes = Buffer.from(await got.arrayBuffer());
      expect(sha256(bytes)).toBe(digest);
      expect(bytes.length).toBe(data.length);
    }
    // The chunks went with the upload.
    expect(await partsOf(id)).toEqual([]);
    expect((await send(B(), 'GET', location)).status).toBe(404);
  });

  it('purges on one replica the S3 chunks of abandoned and of record-less uploads, and keeps live ones', async () => {
    const abandoned = (await start(A())).split('/').at(-1)!;
    const orphaned = (await start(A())).split('/').at(-1)!;
    const live = await start(A());
    const liveId = live.split('/').at(-1)!;
    for (const id of [abandoned, orphaned]) {
      expect((await patch(B(), `/v2/stups/app/blobs/uploads/${id}`, randomBytes(100), 0)).status).toBe(202);
    }
    expect((await patch(C(), live, randomBytes(100), 0)).status).toBe(202);
    // The orphan's record went without its chunks; the live upload is written to "a day on".
    const db = A().database.kysely();
    await sql`delete from pierone_uploads where id = ${orphaned}`.execute(db);
    await sql`update pierone_uploads set updated = now() + interval '25 hours' where id = ${liveId}`.execute(
      db,
    );
    const dayLater = Date.now() + 25 * 3600_000;
    const runs = await Promise.all(
      [B(), C()].map((r) => r.service.purgeStaleUploads({ olderThanMs: 24 * 3600_000, now: dayLater })),
    );
    expect(runs.reduce((n, r) => n + r.records, 0)).toBe(1);
    expect(runs.reduce((n, r) => n + r.orphans, 0)).toBeGreaterThanOrEqual(1);
    expect(await partsOf(abandoned)).toEqual([]);
    expect(await partsOf(orphaned)).toEqual([]);
    expect(await partsOf(liveId)).toHaveLength(1);
  });

  it('refuses a wrong digest with 400 DIGEST_INVALID on another replica and publishes nothing', async () => {
    const data = randomBytes(200_000);
    const location = await start(B());
    const id = location.split('/').at(-1)!;
    expect((await patch(C(), location, data, 0)).status).toBe(202);
    const claimed = sha256(Buffer.concat([data, Buffer.from('x')]));
    const put = await send(A(), 'PUT', `${location}?digest=${claimed}`);
    expect(put.status).toBe(400);
    expect(((await put.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
      'DIGEST_INVALID',
    );
    for (const r of replicas) {
      expect(await r.blobs.exists(claimed)).toBe(false);
      expect(await r.blobs.exists(sha256(data))).toBe(false);
      expect((await send(r, 'HEAD', `/v2/stups/app/blobs/${claimed}`)).status).toBe(404);
    }
    expect(await partsOf(id)).toEqual([]);
    expect((await send(C(), 'GET', location)).status).toBe(404);
  });

  it('lets exactly one of two PATCHes racing at one offset on two replicas win; the other gets 416', async () => {
    for (let round = 0; round < 5; round++) {
      const location = await start(A());
      const id = location.split('/').at(-1)!;
      expect((await patch(A(), location, randomBytes(1000), 0)).status).toBe(202);
      const [first, second] = [randomBytes(300_000), randomBytes(300_000)];
      const answers = await Promise.all([
        patch(B(), location, first, 1000),
        patch(C(), location, second, 1000),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([202, 416]);
      const loser = answers.find((a) => a.status === 416)!;
      const refused = (await loser.json()) as { errors: Array<{ code: string; detail: unknown }> };
      expect(refused.errors[0]).toMatchObject({
        code: 'BLOB_UPLOAD_INVALID',
        detail: { expectedOffset: 301_000, givenOffset: 1000 },
      });
      expect((await send(A(), 'GET', location)).headers.get('range')).toBe('0-300999');
      // The loser's chunk object is gone: only the two recorded chunks remain.
      expect(await partsOf(id)).toHaveLength(2);
      expect((await send(A(), 'DELETE', location)).status).toBe(204);
      expect(await partsOf(id)).toEqual([]);
    }
  });

  it('continues an upload on C after replica B, which took its first chunk, was shut down', async () => {
    const data = randomBytes(2_000_000);
    const location = await start(A());
    expect((await patch(B(), location, data.subarray(0, 1_000_000), 0)).status).toBe(202);
    await B().app.close();
    B().closed = true;
    try {
      expect((await patch(C(), location, data.subarray(1_000_000), 1_000_000)).status).toBe(202);
      const digest = sha256(data);
      expect((await send(C(), 'PUT', `${location}?digest=${digest}`)).status).toBe(201);
      const got = await send(A(), 'GET', `/v2/stups/app/blobs/${digest}`);
      expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(digest);
    } finally {
      // B comes back on a new port with the same database and bucket.
      await B().app.close();
      const app = await B().service.createApp();
      await app.listen({ host: '127.0.0.1', port: 0 });
      B().app = app;
      B().url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      B().closed = false;
    }
  });

  it('takes a large multi-layer image from skopeo through a round-robin proxy and gives it back byte for byte', async () => {
    const builder = await ImageBuilder.create();
    const out = await mkdtemp(join(tmpdir(), 'pull-'));
    try {
      // Random content does not compress: the layers stay about as large as written.
      const image = await builder.image('big', [
        { 'a.bin': randomBytes(12 * 1024 * 1024) },
        { 'b.bin': randomBytes(9 * 1024 * 1024) },
        { 'c.bin': randomBytes(6 * 1024 * 1024) },
      ]);
      const host = proxy.url.slice('http://'.length);
      const before = [...proxy.hits];
      const push = await skopeo([...copyArgs({ destToken: token }), image, `docker://${host}/stups/big:1.0`]);
      expect(push.stderr).toBe('');
      expect(push.code).toBe(0);
      // Every replica took part in the push.
      for (const [i, n] of proxy.hits.entries()) expect(n).toBeGreaterThan(before[i]!);

      const pull = await skopeo([
        ...copyArgs({ srcToken: token }),
        `docker://${host}/stups/big:1.0`,
        `dir:${out}`,
      ]);
      expect(pull.code).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
        layers: Array<{ digest: string; size: number }>;
      };
      expect(manifest.layers).toHaveLength(3);
      const layout = join(builder.layout, 'blobs', 'sha256');
      const local = new Set(await readdir(layout));
      for (const layer of manifest.layers) {
        const hex = layer.digest.slice('sha256:'.length);
        const pulled = await readFile(join(out, hex));
        expect(sha256(pulled)).toBe(layer.digest);
        expect(local.has(hex)).toBe(true);
        expect(pulled.equals(await readFile(join(layout, hex)))).toBe(true);
      }
      expect(manifest.layers.reduce((n, l) => n + l.size, 0)).toBeGreaterThan(25 * 1024 * 1024);
    } finally {
      await builder.dispose();
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
