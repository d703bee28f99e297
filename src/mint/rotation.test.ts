import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { JobRunner } from '../platform/jobs/job-runner.js';
import { ManualScheduler } from '../platform/jobs/manual-scheduler.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { type BucketStore, diskBucketStore } from './buckets.js';
import { ClientFileSchema, UserFileSchema } from './contract.js';
import { createMintHarness, grantFromFiles, type MintHarness, MINT_TEST_MIGRATIONS } from './test-support.js';

const BUCKET = 'team-a-mint-eu-west-1';

describeEachDatabase('mint worker (disk buckets)', MINT_TEST_MIGRATIONS, (getDatabase) => {
  let h: MintHarness;
  let dir: string;
  const readJson = async (bucket: string, key: string): Promise<unknown> =>
    JSON.parse(await readFile(join(dir, bucket, key), 'utf8'));
  const files = async (app: string, bucket = BUCKET) => ({
    user: UserFileSchema.parse(await readJson(bucket, `${app}/user.json`)),
    client: ClientFileSchema.parse(await readJson(bucket, `${app}/client.json`)),
  });
  const grant = (f: Awaited<ReturnType<typeof files>>) => grantFromFiles(h.tokenEndpoint, f.user, f.client);
  const configure = (app: string, body: object) =>
    h.app.inject({ method: 'PUT', url: `/apps/${app}`, headers: h.headers.jdoe, payload: body });
  const status = async (app: string) =>
    (await h.app.inject({ url: `/apps/${app}`, headers: h.headers.jdoe })).json();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mint-buckets-'));
    h = await createMintHarness(getDatabase(), diskBucketStore(dir));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the service user and the client, writes exactly the files and proves them', async () => {
    const put = await configure('order-engine', {
      s3_buckets: [BUCKET, 'second-bucket'],
      scopes: [
        { resource_type_id: 'sales_order', scope_id: 'read' },
        { resource_type_id: 'sales_order', scope_id: 'write_own' },
      ],
      is_client_confidential: true,
      redirect_url: 'https://order-engine.example.org/callback',
    });
    expect(put.statusCode).toBe(201);
    const report = await h.mint.rotateDue();
    expect(report).toMatchObject({ passwordRotations: 1, clientRotations: 1, failed: 0 });

    for (const bucket of [BUCKET, 'second-bucket']) {
      const user = await readFile(join(dir, bucket, 'order-engine/user.json'), 'utf8');
      expect(user).toMatch(
        /^\{"application_username":"stups_order-engine","application_password":"[A-Za-z0-9_-]{43}"\}$/,
      );
      const client = await readFile(join(dir, bucket, 'order-engine/client.json'), 'utf8');
      expect(client).toMatch(/^\{"client_id":"stups_order-engine","client_secret":"[A-Za-z0-9_-]{43}"\}$/);
      expect(await readFile(join(dir, bucket, 'order-engine/test-mint-write'), 'utf8')).toBe(
        '{"status":"SUCCESS"}',
      );
      expect((await stat(join(dir, bucket, 'order-engine/user.json'))).mode & 0o777).toBe(0o600);
    }
    expect(await grant(await files('order-engine'))).toBe(200);

    // Scopes split as essentials defines them: the user holds application scopes only.
    const user = await h.tokens.service.getServiceUser('stups_order-engine');
    expect(user).toMatchObject({
      scopes: ['sales_order.read'],
      applicationId: 'order-engine',
      teamId: 'team-a',
    });
    const client = await h.tokens.service.getClient('stups_order-engine');
    expect(client).toMatchObject({
      type: 'confidential',
      redirectUris: ['https://order-engine.example.org/callback'],
      scopes: ['uid', 'sales_order.read', 'sales_order.write_own'],
    });
    expect(await status('order-engine')).toMatchObject({ has_problems: false, s3_errors: 0, message: '' });

    // Nothing is due a moment later.
    h.tokens.clock.advance(60);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 0, clientRotations: 0 });
  });

  it('rotates the password after 2 h with overlap: the old one works until the grace ends', async () => {
    const before = await files('order-engine');
    h.tokens.clock.advance(2 * 3600);
    const report = await h.mint.rotateDue();
    expect(report, JSON.stringify(await status('order-engine'))).toMatchObject({
      passwordRotations: 1,
      clientRotations: 0,
      failed: 0,
    });
    const after = await files('order-engine');
    expect(after.user.application_password).not.toBe(before.user.application_password);
    expect(after.client).toEqual(before.client);
    expect(report.overlaps).toEqual([
      expect.objectContaining({
        app: 'order-engine',
        kind: 'password',
        previousValidUntil: h.tokens.clock.now() + 600_000,
      }),
    ]);
    expect(await grant(before)).toBe(200);
    expect(await grant(after)).toBe(200);
    h.tokens.clock.advance(601);
    expect(await grant(before)).toBe(400);
    expect(await grant(after)).toBe(200);
  });

  it('rotates the client secret monthly with the same overlap', async () => {
    const before = await files('order-engine');
    h.tokens.clock.advance(30 * 24 * 3600);
    const report = await h.mint.rotateDue();
    expect(report, JSON.stringify(await status('order-engine'))).toMatchObject({
      passwordRotations: 1,
      clientRotations: 1,
      failed: 0,
    });
    const after = await files('order-engine');
    expect(after.client.client_secret).not.toBe(before.client.client_secret);
    // A consumer that has re-read neither file yet keeps working through the grace.
    expect(await grant(before)).toBe(200);
    expect(await grant({ user: after.user, client: before.client })).toBe(200);
    h.tokens.clock.advance(601);
    expect(await grant({ user: after.user, client: before.client })).toBe(401);
    expect(await grant(after)).toBe(200);
  });

  it('writes a null secret for a public client', async () => {
    await configure('billing', { s3_buckets: [BUCKET], is_client_confidential: false, scopes: [] });
    await h.mint.rotateDue();
    const f = await files('billing');
    expect(f.client).toEqual({ client_id: 'stups_billing', client_secret: null });
    expect(await grant(f)).toBe(200);
  });

  it('a bucket that refuses writes: old credentials stay, errors count, pause after 10, renewal resumes', async () => {
    const before = await files('billing');
    await configure('billing', {
      s3_buckets: [BUCKET, 'refusing-bucket'],
      is_client_confidential: false,
      scopes: [],
    });
    // A file where the bucket's folder should be: every write to it fails.
    await writeFile(join(dir, 'refusing-bucket'), 'not a folder');
    h.tokens.clock.advance(2 * 3600);
    const first = await h.mint.rotateDue();
    expect(first.failed).toBe(1);
    expect(await status('billing')).toMatchObject({
      has_problems: true,
      s3_errors: 1,
      message: expect.stringContaining('could not write billing/test-mint-write to bucket refusing-bucket'),
    });
    expect(await grant(before)).toBe(200);
    for (let i = 2; i <= 10; i++) await h.mint.rotateDue();
    expect(await status('billing')).toMatchObject({
      s3_errors: 10,
      message: expect.stringContaining('paused'),
    });
    const paused = await h.mint.rotateDue();
    expect(paused).toMatchObject({ paused: 1, failed: 0 });
    expect(await grant(before)).toBe(200);
    const events = await h.ctx.auditLog.query({
      service: 'mint',
      action: 'mint.app.rotate',
      targetId: 'billing',
      limit: 50,
    });
    expect(events.filter((e) => e.outcome === 'failure')).toHaveLength(10);

    await rm(join(dir, 'refusing-bucket'));
    expect(
      (await h.app.inject({ method: 'POST', url: '/apps/billing/renewal', headers: h.headers.jdoe }))
        .statusCode,
    ).toBe(200);
    const renewed = await h.mint.rotateDue();
    expect(renewed).toMatchObject({ failed: 0, passwordRotations: 1 });
    expect(await status('billing')).toMatchObject({ has_problems: false, s3_errors: 0 });
    expect(await grant(await files('billing', 'refusing-bucket'))).toBe(200);
  });

  it('two replicas: each rotation happens exactly once, through the job runner and per application', async () => {
    const replica = h.replica();
    h.tokens.clock.advance(2 * 3600);
    // Two job runners (two replicas) on one database and one tick: the job runs once.
    const runs = [0, 0];
    const runners = [0, 1].map(
      () =>
        new JobRunner(getDatabase(), silentLogger(), {
          clock: h.tokens.clock.now,
          scheduler: new ManualScheduler(),
        }),
    );
    const outcomes = await Promise.all(
      [h.mint, replica].map((m, i) =>
        runners[i]!.runOnce({
          name: 'mint.rotation',
          intervalMs: 10_000,
          run: async () => {
            runs[i]!++;
            await m.rotateDue();
          },
        }),
      ),
    );
    expect(outcomes.sort()).toEqual(['ran', 'skipped']);
    expect(runs[0]! + runs[1]!).toBe(1);

    // Even when two workers run at once (overlapping ticks), each application rotates once.
    h.tokens.clock.advance(2 * 3600);
    const before = await h.ctx.auditLog.query({ service: 'mint', action: 'mint.app.rotate', limit: 500 });
    const reports = await Promise.all([h.mint.rotateDue(), replica.rotateDue()]);
    expect(reports[0].passwordRotations + reports[1].passwordRotations).toBe(2);
    const after = await h.ctx.auditLog.query({ service: 'mint', action: 'mint.app.rotate', limit: 500 });
    const added = after.slice(0, after.length - before.length);
    expect(added.map((e) => e.target_id).sort()).toEqual(['billing', 'order-engine']);
    for (const runner of runners) await runner.stop();
  });

  it('a renewal requested while a rotation runs is kept for the next run, not swallowed by it', async () => {
    await h.mint.rotateDue(); // nothing due left over from earlier tests
    const disk = diskBucketStore(dir);
    let requested = false;
    // A bucket that lets a team member click "Rotate now" in the middle of the worker's writes.
    const clicking: BucketStore = {
      kind: 'disk',
      async put(bucket, key, body) {
        if (!requested && key === 'billing/user.json') {
          requested = true;
          const renewal = await h.app.inject({
            method: 'POST',
            url: '/apps/billing/renewal',
            headers: h.headers.jdoe,
          });
          expect(renewal.statusCode).toBeLessThan(300);
        }
        await disk.put(bucket, key, body);
      },
    };
    // Due by age (the run starts without a renewal request); the click comes during its writes.
    h.tokens.clock.advance(2 * 3600);
    expect(await h.replica(clicking).rotateDue()).toMatchObject({ failed: 0 });
    expect(requested).toBe(true);
    // The request came after the run had read the application: it still rotates, once the
    // grace of the generation the run just replaced has ended.
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 0, deferred: 1 });
    h.tokens.clock.advance(601);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, failed: 0 });
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 0, deferred: 0 });
  });

  it('renews only the password or only the client secret when told, both by default', async () => {
    const renew = (query = '') =>
      h.app.inject({
        method: 'POST',
        url: `/apps/order-engine/renewal${query}`,
        headers: h.headers.jdoe,
      });
    h.tokens.clock.advance(601); // past every grace of earlier tests
    await h.mint.rotateDue();
    const start = await files('order-engine');

    expect((await renew('?credentials=password')).statusCode).toBe(200);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, clientRotations: 0, failed: 0 });
    const afterPassword = await files('order-engine');
    expect(afterPassword.user.application_password).not.toBe(start.user.application_password);
    expect(afterPassword.client).toEqual(start.client);

    h.tokens.clock.advance(601);
    expect((await renew('?credentials=client')).statusCode).toBe(200);
    const clientOnly = await h.mint.rotateDue();
    expect(clientOnly, JSON.stringify(await status('order-engine'))).toMatchObject({
      passwordRotations: 0,
      clientRotations: 1,
      failed: 0,
    });
    expect(clientOnly.overlaps.map((o) => o.kind)).toEqual(['client']);
    const afterClient = await files('order-engine');
    expect(afterClient.user).toEqual(afterPassword.user);
    expect(afterClient.client.client_secret).not.toBe(start.client.client_secret);
    expect(await grant(afterClient)).toBe(200);
    // The old secret overlaps like any generation.
    expect(await grant({ user: afterClient.user, client: start.client })).toBe(200);

    h.tokens.clock.advance(601);
    expect((await renew()).statusCode).toBe(200);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, clientRotations: 1 });
    const events = await h.ctx.auditLog.query({ service: 'mint', action: 'mint.app.renew', limit: 3 });
    expect(events.map((e) => e.details)).toEqual([
      { credentials: 'both' },
      { credentials: 'client' },
      { credentials: 'password' },
    ]);

    const bad = await renew('?credentials=secret');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('queues a rotation asked for within the grace: no generation a consumer may hold is cut off', async () => {
    h.tokens.clock.advance(601);
    await h.mint.rotateDue();
    const held = await files('order-engine'); // what a consumer holds
    const renew = () =>
      h.app.inject({ method: 'POST', url: '/apps/order-engine/renewal', headers: h.headers.jdoe });
    expect((await renew()).statusCode).toBe(200);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, clientRotations: 1 });
    const first = await files('order-engine');
    // A second forced rotation 10 s later: rotating now would drop `held`, 590 s before its end.
    h.tokens.clock.advance(10);
    expect((await renew()).statusCode).toBe(200);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 0, clientRotations: 0, deferred: 1 });
    expect(await files('order-engine')).toEqual(first);
    expect(await grant(held)).toBe(200);
    h.tokens.clock.advance(589);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 0, deferred: 1 });
    expect(await grant(held)).toBe(200);
    // Its grace over, the queued rotation runs; the generation the consumer moved to overlaps again.
    h.tokens.clock.advance(2);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, clientRotations: 1, deferred: 0 });
    const second = await files('order-engine');
    expect(second.user).not.toEqual(first.user);
    // Both of held's credentials are retired now: its client is refused first (401).
    expect(await grant(held)).toBe(401);
    expect(await grant(first)).toBe(200);
    expect(await grant(second)).toBe(200);
  });

  it('an application deactivated in Kio loses its service user and client within one run', async () => {
    await h.kio.registry.put({ uid: 'stups', realm: 'services' }, 'billing', { active: false });
    const report = await h.mint.rotateDue();
    expect(report.removed).toBe(1);
    expect(await h.tokens.service.getServiceUser('stups_billing')).toBeUndefined();
    expect(await h.tokens.service.getClient('stups_billing')).toBeUndefined();
    expect((await h.app.inject({ url: '/apps/billing', headers: h.headers.jdoe })).statusCode).toBe(404);
    const [event] = await h.ctx.auditLog.query({ service: 'mint', action: 'mint.app.remove', limit: 1 });
    expect(event).toMatchObject({
      target_id: 'billing',
      details: expect.objectContaining({ reason: 'inactive in Kio' }),
    });
    // order-engine is untouched
    expect(await grant(await files('order-engine'))).toBe(200);
  });

  it('never puts a secret into the audit log', async () => {
    const events = await h.ctx.auditLog.query({ limit: 1000 });
    const text = JSON.stringify(events);
    const f = await files('order-engine');
    expect(text).not.toContain(f.user.application_password);
    expect(text).not.toContain(String(f.client.client_secret));
  });
});
