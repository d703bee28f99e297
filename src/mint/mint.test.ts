import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { diskBucketStore } from './buckets.js';
import { createMintHarness, type Headers, type MintHarness, MINT_TEST_MIGRATIONS } from './test-support.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describeEachDatabase('mint storage API', MINT_TEST_MIGRATIONS, (getDatabase) => {
  let h: MintHarness;
  let dir: string;
  const put = (app: string, payload: object, headers: Headers = h.headers.jdoe) =>
    h.app.inject({ method: 'PUT', url: `/apps/${app}`, headers, payload });
  const get = (url: string, headers: Headers = h.headers.bob) => h.app.inject({ url, headers });
  const config = {
    s3_buckets: ['team-a-mint'],
    scopes: [{ resource_type_id: 'sales_order', scope_id: 'read' }],
    is_client_confidential: true,
    redirect_url: 'https://order-engine.example.org/cb',
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mint-api-'));
    h = await createMintHarness(getDatabase(), diskBucketStore(dir));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, reads (wire shape), lists with filters, accepts its GET body back', async () => {
    const created = await put('order-engine', config);
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/apps/order-engine');
    const body = created.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'id',
        'username',
        'client_id',
        'is_client_confidential',
        'redirect_url',
        's3_buckets',
        'scopes',
        'last_password_rotation',
        'last_client_rotation',
        'last_modified',
        'last_synced',
        'has_problems',
        'message',
        's3_errors',
      ].sort(),
    );
    expect(body).toMatchObject({
      id: 'order-engine',
      username: 'stups_order-engine',
      client_id: 'stups_order-engine',
      last_password_rotation: null,
      last_synced: null,
      has_problems: false,
      message: '',
      s3_errors: 0,
      ...config,
    });
    expect(body.last_modified).toMatch(TIMESTAMP);

    const read = await get('/apps/order-engine');
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(body);
    const again = await put('order-engine', read.json());
    expect(again.statusCode).toBe(200);

    const list = await get('/apps');
    expect(list.json()).toEqual([
      {
        id: 'order-engine',
        last_password_rotation: null,
        last_client_rotation: null,
        last_modified: expect.stringMatching(TIMESTAMP),
        last_synced: null,
        has_problems: false,
        message: '',
        s3_errors: 0,
      },
    ]);
    expect((await get('/apps?resource_type_id=sales_order')).json()).toHaveLength(1);
    expect((await get('/apps?resource_type_id=sales_order&scope_id=read')).json()).toHaveLength(1);
    expect((await get('/apps?resource_type_id=sales_order&scope_id=write_own')).json()).toEqual([]);
    expect((await get('/apps?resource_type_id=customer')).json()).toEqual([]);
  });

  it('answers 400 naming what is wrong, and writes nothing', async () => {
    const unknownApp = await put('no-such-app', config, h.headers.admin);
    expect(unknownApp.statusCode).toBe(400);
    expect(unknownApp.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknownApp.json().detail).toMatch(/no-such-app does not exist in Kio/);

    const unknownScope = await put('billing', {
      ...config,
      scopes: [...config.scopes, { resource_type_id: 'sales_order', scope_id: 'delete' }],
    });
    expect(unknownScope.statusCode).toBe(400);
    expect(unknownScope.json().detail).toMatch(/sales_order\.delete/);

    const http = await put('billing', { ...config, redirect_url: 'http://billing.example.org/cb' });
    expect(http.statusCode).toBe(400);
    expect(http.body).toMatch(/https/);
    expect((await put('billing', { ...config, s3_buckets: [] })).statusCode).toBe(400);
    expect((await put('billing', { ...config, s3_buckets: ['../etc'] })).statusCode).toBe(400);
    expect((await get('/apps/billing')).statusCode).toBe(404);
  });

  it('lets only the team and administrators write, and audits refusals', async () => {
    const refused = await put('billing', config, h.headers.bob);
    expect(refused.statusCode).toBe(403);
    expect((await h.app.inject({ method: 'PUT', url: '/apps/billing', payload: config })).statusCode).toBe(
      401,
    );
    const refusals = await h.ctx.auditLog.query({
      service: 'mint',
      action: 'mint.app.put',
      targetId: 'billing',
      limit: 5,
    });
    expect(refusals.map((e) => `${e.actor}:${e.outcome}`).sort()).toEqual([
      'anonymous:refused',
      'bob:refused',
    ]);
    expect((await put('billing', config, h.headers.admin)).statusCode).toBe(201);
    const [success] = await h.ctx.auditLog.query({
      service: 'mint',
      action: 'mint.app.put',
      targetId: 'billing',
      limit: 1,
    });
    expect(success).toMatchObject({ outcome: 'success', actor: 'admin' });
    expect(success?.details).toMatchObject({
      created: true,
      s3_buckets: ['team-a-mint'],
      scopes: ['sales_order.read'],
    });

    const renewByBob = await h.app.inject({
      method: 'POST',
      url: '/apps/billing/renewal',
      headers: h.headers.bob,
    });
    expect(renewByBob.statusCode).toBe(403);
    const deleteByBob = await h.app.inject({
      method: 'DELETE',
      url: '/apps/billing',
      headers: h.headers.bob,
    });
    expect(deleteByBob.statusCode).toBe(403);
  });

  it('renewal resets the counter; PATCH is for administrators (the worker) only', async () => {
    const patchByMember = await h.app.inject({
      method: 'PATCH',
      url: '/apps/billing',
      headers: h.headers.jdoe,
      payload: { s3_errors: 7, has_problems: true, message: 'boom' },
    });
    expect(patchByMember.statusCode).toBe(403);
    const patched = await h.app.inject({
      method: 'PATCH',
      url: '/apps/billing',
      headers: h.headers.admin,
      payload: { s3_errors: 7, has_problems: true, message: 'boom' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ s3_errors: 7, has_problems: true, message: 'boom' });
    const renewed = await h.app.inject({
      method: 'POST',
      url: '/apps/billing/renewal',
      headers: h.headers.jdoe,
    });
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json()).toMatchObject({ s3_errors: 0 });
    expect(
      (await h.app.inject({ method: 'POST', url: '/apps/nothing/renewal', headers: h.headers.admin }))
        .statusCode,
    ).toBe(404);
    const events = await h.ctx.auditLog.query({ service: 'mint', targetId: 'billing', limit: 20 });
    expect(events.map((e) => `${e.action}:${e.outcome}`)).toEqual(
      expect.arrayContaining(['mint.app.patch:refused', 'mint.app.patch:success', 'mint.app.renew:success']),
    );
  });

  it('deletes the configuration and the credentials with it', async () => {
    await h.mint.rotateDue();
    expect(await h.tokens.service.getServiceUser('stups_billing')).toBeDefined();
    const deleted = await h.app.inject({ method: 'DELETE', url: '/apps/billing', headers: h.headers.jdoe });
    expect(deleted.statusCode).toBe(204);
    expect(await h.tokens.service.getServiceUser('stups_billing')).toBeUndefined();
    expect(await h.tokens.service.getClient('stups_billing')).toBeUndefined();
    expect((await get('/apps/billing')).statusCode).toBe(404);
    expect(
      (await h.app.inject({ method: 'DELETE', url: '/apps/billing', headers: h.headers.jdoe })).statusCode,
    ).toBe(404);
    const [event] = await h.ctx.auditLog.query({ service: 'mint', action: 'mint.app.delete', limit: 1 });
    expect(event).toMatchObject({ outcome: 'success', target_id: 'billing', actor: 'jdoe' });
  });

  it('publishes its OpenAPI', async () => {
    const openapi = (await h.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/apps', '/apps/{app}', '/apps/{app}/renewal']),
    );
    // The renewal's optional choice of credentials is documented with its values and default.
    const credentials = openapi.paths['/apps/{app}/renewal'].post.parameters.find(
      (p: { name: string }) => p.name === 'credentials',
    );
    expect(credentials).toMatchObject({
      in: 'query',
      required: false,
      schema: { enum: ['password', 'client', 'both'], default: 'both' },
    });
  });
});
