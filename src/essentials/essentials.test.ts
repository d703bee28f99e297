import { beforeAll, describe, expect, it } from 'vitest';
import { createKioService, kioMigrations } from '../kio/index.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import { TeamStore, teamMigrations } from '../teams/index.js';
import {
  createEssentialsService,
  type EssentialsService,
  essentialsMigrations,
  fullScopeName,
} from './index.js';

const migrations = [
  ...KERNEL_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  { component: 'kio', migrations: kioMigrations },
  { component: 'essentials', migrations: essentialsMigrations },
];

type Headers = Record<string, string>;

describeEachDatabase('essentials', migrations, (getDatabase) => {
  let ctx: ServiceContext;
  let service: EssentialsService;
  let app: HttpApp;
  let admin: Headers;
  let robotAdmin: Headers;
  let jdoe: Headers;
  let bob: Headers;
  let kioApp: HttpApp;
  let teams: TeamStore;

  const put = (url: string, payload: unknown, headers: Headers = admin) =>
    app.inject({ method: 'PUT', url, headers, payload: payload as object });
  const get = (url: string, headers: Headers = jdoe) => app.inject({ url, headers });
  const del = (url: string, headers: Headers = admin) => app.inject({ method: 'DELETE', url, headers });

  beforeAll(async () => {
    const issuer = await createTestIssuer();
    ctx = createTestContext(getDatabase(), issuer.verifier, { adminUids: ['admin'] });
    teams = new TeamStore(getDatabase());
    await teams.putTeam('team-a', { name: 'Team A', members: ['jdoe'] });
    const kio = createKioService(ctx, { teams });
    await kio.registry.put({ uid: 'stups', realm: 'services' }, 'order-engine', {
      team_id: 'team-a',
      active: true,
      name: 'Order Engine',
    });
    kioApp = await kio.createApp();
    service = createEssentialsService(ctx, { applications: kio.applications, teams });
    app = await service.createApp();
    await app.ready();
    admin = { authorization: `Bearer ${await issuer.token({ uid: 'admin' })}` };
    robotAdmin = {
      authorization: `Bearer ${await issuer.token({ uid: 'robot', realm: 'services', scopes: ['stups.admin'] })}`,
    };
    jdoe = { authorization: `Bearer ${await issuer.token({ uid: 'jdoe' })}` };
    bob = { authorization: `Bearer ${await issuer.token({ uid: 'bob' })}` };
  });

  describe('resource types', () => {
    it('refuses a lone surrogate in a text field, storing neither the change nor an event', async () => {
      // Before: the change was stored while its audit event failed to insert. The kernel's input
      // guard now refuses such text at the edge; the audit factory escapes it where it still arrives.
      const response = await put('/resource-types/odd_text', { name: 'odd', description: 'a\ud800b' });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const stored = await get('/resource-types/odd_text');
      expect(stored.statusCode).toBe(404);
      const events = await ctx.auditLog.query({ service: 'essentials', targetId: 'odd_text', limit: 5 });
      expect(events.filter((e) => e.outcome === 'success')).toEqual([]);
    });

    it('creates, reads, lists, merges and deletes', async () => {
      const created = await put('/resource-types/sales_order', {
        name: 'sales order',
        description: 'orders of customers',
        resource_owners: ['employees', 'customers', 'customers'],
      });
      expect(created.statusCode).toBe(201);
      expect(created.headers.location).toBe('/resource-types/sales_order');
      const expected = {
        id: 'sales_order',
        name: 'sales order',
        description: 'orders of customers',
        resource_owners: ['employees', 'customers'],
      };
      expect(created.json()).toEqual(expected);
      expect((await get('/resource-types/sales_order')).json()).toEqual(expected);
      expect((await get('/resource-types')).json()).toContainEqual({
        id: 'sales_order',
        name: 'sales order',
      });

      // GET body back, and a partial update that keeps the rest.
      expect((await put('/resource-types/sales_order', expected)).json()).toEqual(expected);
      const renamed = await put('/resource-types/sales_order', { name: 'Sales Order', description: null });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toEqual({ ...expected, name: 'Sales Order' });

      await put('/resource-types/tmp', { name: 'tmp' });
      expect((await del('/resource-types/tmp')).statusCode).toBe(204);
      expect((await get('/resource-types/tmp')).statusCode).toBe(404);
      expect((await del('/resource-types/tmp')).statusCode).toBe(404);
    });

    it('rejects bad input with nothing written', async () => {
      const cases: [string, unknown, number, string][] = [
        ['/resource-types/Bad', { name: 'x' }, 400, 'INPUT_INVALID'],
        ['/resource-types/a.b.c', { name: 'x' }, 400, 'INPUT_INVALID'],
        ['/resource-types/bad-type', { name: 'x', colour: 'red' }, 400, 'INPUT_INVALID'],
        ['/resource-types/bad-type', { name: 'x', resource_owners: 'customers' }, 400, 'INPUT_INVALID'],
        ['/resource-types/bad-type', { name: 'x', resource_owners: ['Not Valid'] }, 400, 'INPUT_INVALID'],
        ['/resource-types/bad-type', { description: 'no name' }, 400, 'MISSING_FIELDS'],
        ['/resource-types/bad-type', { id: 'other', name: 'x' }, 400, 'ID_MISMATCH'],
      ];
      for (const [url, payload, status, code] of cases) {
        const response = await put(url, payload);
        expect([url, response.statusCode, response.json().code]).toEqual([url, status, code]);
      }
      expect((await get('/resource-types/bad-type')).statusCode).toBe(404);
    });

    it('accepts a dotted id, the application-prefixed form', async () => {
      expect((await put('/resource-types/order-engine.orders', { name: 'orders' })).statusCode).toBe(201);
    });
  });

  describe('scopes', () => {
    beforeAll(async () => {
      await put('/resource-types/sales_order', { name: 'sales order', resource_owners: ['customers'] });
      await put('/resource-types/article', { name: 'article', resource_owners: [] });
    });

    it('creates scopes with defaults and exposes their full names', async () => {
      const read = await put('/resource-types/sales_order/scopes/read', {
        summary: 'grants read access',
        is_resource_owner_scope: true,
      });
      expect(read.statusCode).toBe(201);
      expect(read.json()).toEqual({
        id: 'read',
        resource_type_id: 'sales_order',
        summary: 'grants read access',
        description: null,
        user_information: null,
        is_resource_owner_scope: true,
        criticality_level: 2,
      });
      const readAll = await put('/resource-types/sales_order/scopes/read_all', {
        summary: 'grants read access to all orders',
        is_resource_owner_scope: 'false',
        criticality_level: '3',
        user_information: 'Read all orders',
      });
      expect(readAll.statusCode).toBe(201);
      expect(readAll.json()).toMatchObject({ is_resource_owner_scope: false, criticality_level: 3 });

      const list = (await get('/resource-types/sales_order/scopes')).json();
      expect(list.map((s: { id: string }) => s.id)).toEqual(['read', 'read_all']);
      expect((await get('/resource-types/sales_order/scopes/read_all')).json()).toEqual(readAll.json());
      // The GET body goes back unchanged.
      expect((await put('/resource-types/sales_order/scopes/read_all', readAll.json())).statusCode).toBe(200);
      const merged = await put('/resource-types/sales_order/scopes/read_all', { description: 'batch jobs' });
      expect(merged.json()).toEqual({ ...readAll.json(), description: 'batch jobs' });

      expect(fullScopeName('sales_order', 'read')).toBe('sales_order.read');
      expect(await service.scopes.getScope('sales_order.read')).toMatchObject({
        name: 'sales_order.read',
        is_resource_owner_scope: true,
        resource_owners: ['customers'],
      });
      expect(await service.scopes.getScope('sales_order.nope')).toBeUndefined();
      expect(await service.scopes.getScope('nodot')).toBeUndefined();
      const names = (await service.scopes.listScopes()).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['sales_order.read', 'sales_order.read_all']));
    });

    it('allows only application scopes on a type without resource owners', async () => {
      const denied = await put('/resource-types/article/scopes/read', {
        summary: 'read articles',
        is_resource_owner_scope: true,
      });
      expect(denied.statusCode).toBe(400);
      expect(denied.json()).toMatchObject({
        code: 'NO_RESOURCE_OWNERS',
        detail: 'resource type article has no resource owners, so read can only be an application scope',
      });
      expect((await get('/resource-types/article/scopes/read')).statusCode).toBe(404);
      const app = await put('/resource-types/article/scopes/read', { summary: 'read articles' });
      expect(app.statusCode).toBe(201);
      expect(app.json().is_resource_owner_scope).toBe(false);
      const flip = await put('/resource-types/article/scopes/read', { is_resource_owner_scope: true });
      expect(flip.statusCode).toBe(400);
      expect((await get('/resource-types/article/scopes/read')).json().is_resource_owner_scope).toBe(false);
    });

    it('keeps owners while resource-owner scopes depend on them', async () => {
      await put('/resource-types/wishlist', { name: 'wishlist', resource_owners: ['customers'] });
      await put('/resource-types/wishlist/scopes/read', { summary: 'read', is_resource_owner_scope: true });
      const emptied = await put('/resource-types/wishlist', { resource_owners: [] });
      expect(emptied.statusCode).toBe(400);
      expect(emptied.json().code).toBe('RESOURCE_OWNER_SCOPES_EXIST');
      expect((await get('/resource-types/wishlist')).json().resource_owners).toEqual(['customers']);
      // Another owner is fine; once the scope is an application scope, owners may go.
      expect((await put('/resource-types/wishlist', { resource_owners: ['employees'] })).statusCode).toBe(
        200,
      );
      await put('/resource-types/wishlist/scopes/read', { is_resource_owner_scope: false });
      expect((await put('/resource-types/wishlist', { resource_owners: [] })).statusCode).toBe(200);
    });

    it('deletes scopes, and all scopes with their type', async () => {
      await put('/resource-types/doomed', { name: 'doomed', resource_owners: ['employees'] });
      await put('/resource-types/doomed/scopes/a', { summary: 'a' });
      await put('/resource-types/doomed/scopes/b', { summary: 'b' });
      expect((await del('/resource-types/doomed/scopes/a')).statusCode).toBe(204);
      expect((await del('/resource-types/doomed/scopes/a')).statusCode).toBe(404);
      expect((await get('/resource-types/doomed/scopes')).json().map((s: { id: string }) => s.id)).toEqual([
        'b',
      ]);
      expect((await del('/resource-types/doomed')).statusCode).toBe(204);
      expect(await service.scopes.getScope('doomed.b')).toBeUndefined();
      expect((await get('/resource-types/doomed/scopes')).statusCode).toBe(404);
    });

    it('rejects bad scope input', async () => {
      const cases: [string, unknown, number, string][] = [
        ['/resource-types/sales_order/scopes/Bad', { summary: 'x' }, 400, 'INPUT_INVALID'],
        ['/resource-types/sales_order/scopes/x1', {}, 400, 'MISSING_FIELDS'],
        [
          '/resource-types/sales_order/scopes/x1',
          { summary: 'x', criticality_level: 4 },
          400,
          'INPUT_INVALID',
        ],
        [
          '/resource-types/sales_order/scopes/x1',
          { summary: 'x', is_resource_owner_scope: 'yes' },
          400,
          'INPUT_INVALID',
        ],
        ['/resource-types/sales_order/scopes/x1', { summary: 'x', extra: 1 }, 400, 'INPUT_INVALID'],
        ['/resource-types/sales_order/scopes/x1', { summary: 'x', id: 'x2' }, 400, 'ID_MISMATCH'],
        ['/resource-types/no_type/scopes/x1', { summary: 'x' }, 404, 'RESOURCE_TYPE_NOT_FOUND'],
      ];
      for (const [url, payload, status, code] of cases) {
        const response = await put(url, payload);
        expect([url, response.statusCode, response.json().code]).toEqual([url, status, code]);
      }
      expect((await get('/resource-types/sales_order/scopes/x1')).statusCode).toBe(404);
    });
  });

  describe('who may write', () => {
    it('keeps a type with its owner: registering a Kio application of the same name gains nothing', async () => {
      // An administrator creates a type no application is named after: nobody but admins owns it.
      expect((await put('/resource-types/ledger', { name: 'ledger' })).statusCode).toBe(201);
      expect((await put('/resource-types/ledger', { name: 'mine' }, jdoe)).statusCode).toBe(403);
      // jdoe registers an application called "ledger" in their own team …
      const registered = await kioApp.inject({
        method: 'PUT',
        url: '/apps/ledger',
        headers: jdoe,
        payload: { team_id: 'team-a', active: true, name: 'Ledger' },
      });
      expect(registered.statusCode).toBe(201);
      // … and still may not rewrite the type, its scopes, or delete it.
      expect((await put('/resource-types/ledger', { name: 'mine' }, jdoe)).statusCode).toBe(403);
      expect((await put('/resource-types/ledger/scopes/all', { summary: 'x' }, jdoe)).statusCode).toBe(403);
      expect((await del('/resource-types/ledger', jdoe)).statusCode).toBe(403);
      expect((await get('/resource-types/ledger')).json().name).toBe('ledger');
      // A type created once the application exists belongs to the application's team.
      expect((await put('/resource-types/ledger.entries', { name: 'entries' }, jdoe)).statusCode).toBe(201);
      expect((await put('/resource-types/ledger.entries', { name: 'e' }, bob)).statusCode).toBe(403);
    });

    it('tells a caller beforehand whether a write would be allowed', async () => {
      const permission = async (id: string, headers: Headers) => {
        const response = await get(`/resource-types/${id}/permission`, headers);
        expect(response.statusCode).toBe(200);
        return response.json();
      };
      // Not yet existing: creating under the namesake application's team.
      expect(await permission('order-engine.perm', jdoe)).toEqual({
        may_write: true,
        exists: false,
        owning_team: 'team-a',
      });
      expect(await permission('order-engine.perm', bob)).toMatchObject({ may_write: false, exists: false });
      expect(await permission('nobody-owns-this', jdoe)).toEqual({
        may_write: false,
        exists: false,
        owning_team: null,
      });
      expect(await permission('nobody-owns-this', admin)).toMatchObject({ may_write: true });
      // Existing: the owning team fixed at creation decides, as for the write itself.
      expect((await put('/resource-types/order-engine.perm', { name: 'p' }, jdoe)).statusCode).toBe(201);
      expect(await permission('order-engine.perm', jdoe)).toEqual({
        may_write: true,
        exists: true,
        owning_team: 'team-a',
      });
      expect(await permission('order-engine.perm', bob)).toMatchObject({ may_write: false, exists: true });
      expect((await put('/resource-types/order-engine.perm', { name: 'x' }, bob)).statusCode).toBe(403);
      // Asking is a read: nothing is audited, and it needs a token like every read.
      const events = () =>
        ctx.auditLog.query({ service: 'essentials', targetId: 'order-engine.perm', limit: 50 });
      const before = (await events()).length;
      await permission('order-engine.perm', bob);
      await permission('order-engine.perm', jdoe);
      expect((await events()).length).toBe(before);
      expect((await app.inject('/resource-types/order-engine.perm/permission')).statusCode).toBe(401);
    });

    it('takes a membership change into account on the next request', async () => {
      expect((await put('/resource-types/order-engine.live', { name: 'live' }, jdoe)).statusCode).toBe(201);
      await teams.removeMember('team-a', 'jdoe');
      try {
        expect((await put('/resource-types/order-engine.live', { name: 'x' }, jdoe)).statusCode).toBe(403);
      } finally {
        await teams.addMember('team-a', 'jdoe');
      }
      expect((await put('/resource-types/order-engine.live', { name: 'y' }, jdoe)).statusCode).toBe(200);
    });

    it('audits anonymous writes as refused', async () => {
      const response = await app.inject({
        method: 'PUT',
        url: '/resource-types/anon',
        payload: { name: 'a' },
      });
      expect(response.statusCode).toBe(401);
      const [event] = await ctx.auditLog.query({ service: 'essentials', actor: 'anonymous', limit: 1 });
      expect(event).toMatchObject({
        action: 'essentials.resource_type.put',
        outcome: 'refused',
        target_id: 'anon',
        request_id: response.headers['x-request-id'],
        details: { status: 401 },
      });
    });

    it('lets administrators and the owning application’s team write, nobody else', async () => {
      expect((await put('/resource-types/by-robot', { name: 'r' }, robotAdmin)).statusCode).toBe(201);
      const denied = await put('/resource-types/by-jdoe', { name: 'j' }, jdoe);
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({
        code: 'NOT_TYPE_OWNER',
        detail: 'only platform administrators may change resource type by-jdoe',
      });
      expect((await get('/resource-types/by-jdoe')).statusCode).toBe(404);
      // jdoe is in team-a, which owns the application order-engine.
      expect((await put('/resource-types/order-engine.items', { name: 'items' }, jdoe)).statusCode).toBe(201);
      expect(
        (await put('/resource-types/order-engine.items/scopes/read', { summary: 'r' }, jdoe)).statusCode,
      ).toBe(201);
      expect((await put('/resource-types/order-engine.items', { name: 'x' }, bob)).statusCode).toBe(403);
      expect((await del('/resource-types/order-engine.items/scopes/read', bob)).statusCode).toBe(403);
      expect((await del('/resource-types/order-engine.items', bob)).statusCode).toBe(403);
      expect((await get('/resource-types/order-engine.items')).json().name).toBe('items');
      expect((await app.inject('/resource-types')).statusCode).toBe(401);

      const events = (await ctx.auditLog.query({ service: 'essentials', actor: 'bob', limit: 10 })).filter(
        (e) => e.target_id?.startsWith('order-engine.items'),
      );
      expect(events.map((e) => [e.action, e.outcome, e.target_id])).toEqual([
        ['essentials.resource_type.delete', 'refused', 'order-engine.items'],
        ['essentials.scope.delete', 'refused', 'order-engine.items/read'],
        ['essentials.resource_type.put', 'refused', 'order-engine.items'],
      ]);
      expect(events[0]).toMatchObject({ details: { status: 403, code: 'NOT_TYPE_OWNER' } });
      const created = await ctx.auditLog.query({
        service: 'essentials',
        action: 'essentials.scope.put',
        actor: 'jdoe',
        limit: 1,
      });
      expect(created[0]).toMatchObject({
        target_type: 'scope',
        target_id: 'order-engine.items.read',
        outcome: 'success',
        details: { created: true },
      });
    });
  });
});
