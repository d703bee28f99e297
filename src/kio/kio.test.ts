import { beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  createKioHarness,
  type Headers,
  KIO_TEST_MIGRATIONS,
  type KioHarness,
} from './test-support/kio-harness.js';

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const FULL = {
  team_id: 'team-a',
  active: true,
  name: 'Order Engine',
  subtitle: 'takes orders',
  description: 'Receives and validates orders.',
  service_url: 'https://order-engine.example.org',
  scm_url: 'https://github.example.org/team-a/order-engine',
  documentation_url: 'https://docs.example.org/order-engine',
  specification_url: 'https://jira.example.org/browse/OE',
  support_url: 'https://support.example.org/oe',
  specification_type: 'JIRA',
  criticality_level: 3,
  publicly_accessible: true,
  incident_contact: 'team-a-oncall',
  required_approvers: 1,
};

const VERSION = {
  artifact: 'docker://pierone.example.org/team-a/order-engine:1.0',
  notes: 'release 1.0',
};
const APPROVAL = { approval_type: 'DEPLOY', notes: 'deployed by CI' };

describeEachDatabase('kio', KIO_TEST_MIGRATIONS, (getDatabase) => {
  let h: KioHarness;
  let app: HttpApp;
  let jdoe: Headers;
  let alice: Headers;
  let bob: Headers;
  let mallory: Headers;
  let admin: Headers;
  let robotAdmin: Headers;
  let ciA: Headers;
  let ciANoScope: Headers;
  let ghost: Headers;

  const put = (id: string, payload: unknown, headers: Headers) =>
    app.inject({ method: 'PUT', url: `/apps/${id}`, headers, payload: payload as object });
  const get = (url: string, headers: Headers = jdoe) => app.inject({ url, headers });

  beforeAll(async () => {
    h = await createKioHarness(getDatabase());
    app = h.app;
    jdoe = await h.as('jdoe');
    alice = await h.as('alice');
    bob = await h.as('bob');
    mallory = await h.as('mallory');
    admin = await h.as('admin');
    robotAdmin = await h.as('robot', { realm: 'services', scopes: ['uid', 'stups.admin'] });
    ciA = await h.as('ci-a', { realm: 'services', scopes: ['uid', 'application.write'] });
    ciANoScope = await h.as('ci-a', { realm: 'services', scopes: ['uid'] });
    ghost = await h.as('ghost', { realm: 'services', scopes: ['uid', 'application.write'] });
    // The CI service's own application, owned by team-a: that is what lets it write there.
    await h.kio.registry.put({ uid: 'stups', realm: 'services' }, 'ci-a', {
      team_id: 'team-a',
      active: true,
      name: 'CI of team A',
    });
  });

  describe('create and read', () => {
    it('creates with PUT and answers the full application with server-set fields', async () => {
      const created = await put('order-engine', FULL, jdoe);
      expect(created.statusCode).toBe(201);
      expect(created.headers.location).toBe('/apps/order-engine');
      const body = created.json();
      expect(body).toEqual({
        id: 'order-engine',
        ...FULL,
        created: expect.stringMatching(TIMESTAMP),
        created_by: 'jdoe',
        last_modified: body.created,
        last_modified_by: 'jdoe',
      });
      const read = await get('/apps/order-engine');
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual(body);
    });

    it('fills defaults for fields a creation leaves out', async () => {
      const created = await put('minimal-app', { team_id: 'team-a', active: false, name: 'Minimal' }, jdoe);
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        subtitle: null,
        description: null,
        service_url: null,
        criticality_level: 2,
        publicly_accessible: false,
        incident_contact: null,
        required_approvers: 2,
      });
    });

    it('answers 404 problems for unknown applications', async () => {
      const missing = await get('/apps/no-such-app');
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(missing.json()).toMatchObject({
        status: 404,
        code: 'APPLICATION_NOT_FOUND',
        detail: 'application no-such-app does not exist',
      });
      expect((await get('/apps/no-such-app/history')).statusCode).toBe(404);
      expect((await get('/apps/Not_Even_An_Id')).statusCode).toBe(404);
    });

    it('requires a token', async () => {
      expect((await app.inject('/apps')).statusCode).toBe(401);
      expect((await app.inject('/apps/order-engine')).statusCode).toBe(401);
      const anonymousPut = await app.inject({ method: 'PUT', url: '/apps/anon', payload: FULL });
      expect(anonymousPut.statusCode).toBe(401);
      expect(await h.kio.store.get('anon')).toBeUndefined();
    });

    it('serves the directory contract and the OpenAPI document', async () => {
      expect(await h.kio.applications.getApplication('order-engine')).toEqual({
        id: 'order-engine',
        team_id: 'team-a',
        active: true,
        name: 'Order Engine',
        scm_url: 'https://github.example.org/team-a/order-engine',
      });
      expect(await h.kio.applications.getApplication('nope')).toBeUndefined();
      const openapi = (await app.inject('/openapi.json')).json();
      expect(openapi.info.title).toBe('Kio API');
      expect(Object.keys(openapi.paths)).toEqual(
        expect.arrayContaining(['/apps', '/apps/{id}', '/apps/{id}/history']),
      );
    });

    it('answers the deprecated version and approval routes with empty lists', async () => {
      expect((await get('/apps/order-engine/versions')).json()).toEqual([]);
      expect((await get('/apps/order-engine/approvals')).json()).toEqual([]);
      expect((await get('/apps/order-engine/versions/1.0')).statusCode).toBe(404);
      expect((await get('/apps/no-such-app/versions')).statusCode).toBe(404);
      const approvals = await get('/apps/order-engine/versions/1.0/approvals');
      expect(approvals.statusCode).toBe(200);
      expect(approvals.headers['content-type']).toMatch(/^application\/json/);
      expect(approvals.body).toBe('[]');
      expect((await get('/apps/no-such-app/versions/1.0/approvals')).statusCode).toBe(404);
      expect((await app.inject('/apps/order-engine/versions/1.0/approvals')).statusCode).toBe(401);
    });

    // What old deploy scripts send (`kio versions create` and `kio versions approve` of STUPS).
    const versionPut = (id: string, headers: Headers, payload: object = VERSION) =>
      app.inject({ method: 'PUT', url: `/apps/${id}/versions/1.0`, headers, payload });
    const approvalPost = (id: string, headers: Headers, payload: object = APPROVAL) =>
      app.inject({ method: 'POST', url: `/apps/${id}/versions/1.0/approvals`, headers, payload });

    it('accepts the deprecated version and approval writes of old deploy scripts and ignores them', async () => {
      const version = await versionPut('order-engine', jdoe);
      expect(version.statusCode).toBe(200);
      expect(version.body).toBe('');
      const approval = await approvalPost('order-engine', alice);
      expect(approval.statusCode).toBe(200);
      expect(approval.body).toBe('');
      // A body-less call is accepted too; nothing was stored either way.
      expect(
        (await app.inject({ method: 'PUT', url: '/apps/order-engine/versions/2.0', headers: jdoe }))
          .statusCode,
      ).toBe(200);
      expect((await get('/apps/order-engine/versions')).json()).toEqual([]);
      expect((await get('/apps/order-engine/versions/1.0/approvals')).json()).toEqual([]);
      const events = await h.ctx.auditLog.query({ service: 'kio', targetId: 'order-engine/1.0', limit: 10 });
      expect(events.map((e) => [e.action, e.actor, e.outcome, e.details])).toEqual([
        ['kio.version.approve', 'alice', 'success', expect.objectContaining({ ignored: true })],
        ['kio.version.put', 'jdoe', 'success', expect.objectContaining({ ignored: true })],
      ]);
      expect(events[0]!.request_id).toBe(approval.headers['x-request-id']);
    });

    it('authorizes the deprecated writes like writes of the application, and audits refusals', async () => {
      expect(
        (await app.inject({ method: 'PUT', url: '/apps/order-engine/versions/1.0', payload: VERSION }))
          .statusCode,
      ).toBe(401);
      const denied = await versionPut('order-engine', bob);
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({ code: 'NOT_TEAM_MEMBER' });
      expect((await approvalPost('order-engine', mallory)).statusCode).toBe(403);
      expect((await versionPut('order-engine', ciA)).statusCode).toBe(200);
      expect((await versionPut('no-such-app', admin)).statusCode).toBe(404);
      const refused = await h.ctx.auditLog.query({
        service: 'kio',
        actor: 'bob',
        targetId: 'order-engine/1.0',
        limit: 10,
      });
      expect(refused.map((e) => [e.action, e.outcome])).toEqual([['kio.version.put', 'refused']]);
      // The body is the original's: unknown attributes are refused, as there.
      const unknown = await versionPut('order-engine', jdoe, { artifact: 'x', colour: 'blue' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((await approvalPost('order-engine', jdoe, { approval_type: 42 })).statusCode).toBe(400);
    });

    it('marks the version routes deprecated in the OpenAPI document', async () => {
      const paths = (await app.inject('/openapi.json')).json().paths;
      expect(paths['/apps/{id}/versions/{version}'].put.deprecated).toBe(true);
      expect(paths['/apps/{id}/versions/{version}/approvals'].post.deprecated).toBe(true);
      expect(paths['/apps/{id}/versions/{version}/approvals'].get.deprecated).toBe(true);
      expect(paths['/apps/{id}/versions'].get.deprecated).toBe(true);
      expect(paths['/apps/{id}'].put.deprecated).toBeUndefined();
    });
  });

  describe('merge semantics', () => {
    it('merges given fields, ignores nulls, clears with empty strings', async () => {
      const before = (await put('merge-me', FULL, jdoe)).json();
      const updated = await put(
        'merge-me',
        { subtitle: 'new subtitle', description: null, scm_url: '', criticality_level: null },
        alice,
      );
      expect(updated.statusCode).toBe(200);
      const after = updated.json();
      expect(after).toEqual({
        ...before,
        subtitle: 'new subtitle',
        scm_url: null,
        last_modified: expect.stringMatching(TIMESTAMP),
        last_modified_by: 'alice',
      });
      expect(after.created).toBe(before.created);
      expect(after.created_by).toBe('jdoe');
      expect(Date.parse(after.last_modified)).toBeGreaterThanOrEqual(Date.parse(before.last_modified));
    });

    it('takes back the whole GET body, with or without the server-set fields', async () => {
      await put('round-trip', FULL, jdoe);
      const original = (await get('/apps/round-trip')).json();
      const whole = await put('round-trip', original, alice);
      expect(whole.statusCode).toBe(200);
      expect(whole.json()).toEqual(original);

      // What `kio app update` sends: the GET body without id, created*, last_modified*.
      const { id, created, created_by, last_modified, last_modified_by, ...edited } = original;
      void [id, created, created_by, last_modified, last_modified_by];
      const cli = await put('round-trip', { ...edited, active: false }, alice);
      expect(cli.statusCode).toBe(200);
      expect(cli.json()).toMatchObject({ active: false, required_approvers: 1, last_modified_by: 'alice' });

      // A search hit, too, can be PUT back.
      const [hit] = (await get('/apps?search=round-trip')).json();
      expect(hit.id).toBe('round-trip');
      const fromSearch = await put('round-trip', hit, alice);
      expect(fromSearch.statusCode).toBe(200);
    });

    it('accepts numbers and booleans sent as strings', async () => {
      const created = await put(
        'stringly',
        {
          team_id: 'team-a',
          active: 'false',
          name: 'Stringly',
          criticality_level: '4',
          publicly_accessible: 'TRUE',
          required_approvers: '3',
        },
        jdoe,
      );
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        active: false,
        criticality_level: 4,
        publicly_accessible: true,
        required_approvers: 3,
      });
    });
  });

  describe('bad input: a clear 4xx and nothing written', () => {
    const base = { team_id: 'team-a', active: true, name: 'X' };
    const cases: [string, string, unknown, number, string][] = [
      ['an id with capitals and underscores', 'Bad_Id', base, 400, 'INPUT_INVALID'],
      ['an id ending in a dash', 'bad-', base, 400, 'INPUT_INVALID'],
      ['a one-letter id', 'a', base, 400, 'INPUT_INVALID'],
      ['an unknown team', 'bad-team', { ...base, team_id: 'no-team' }, 400, 'UNKNOWN_TEAM'],
      ['a URL that is not one', 'bad-url', { ...base, service_url: 'not a url' }, 400, 'INPUT_INVALID'],
      [
        'a javascript: URL',
        'bad-url2',
        { ...base, support_url: 'javascript:alert(1)' },
        400,
        'INPUT_INVALID',
      ],
      ['an ftp URL', 'bad-url3', { ...base, scm_url: 'ftp://example.org/x' }, 400, 'INPUT_INVALID'],
      ['a boolean that is not one', 'bad-bool', { ...base, active: 'yes' }, 400, 'INPUT_INVALID'],
      ['a number as a boolean', 'bad-bool2', { ...base, publicly_accessible: 1 }, 400, 'INPUT_INVALID'],
      ['criticality 5', 'bad-crit', { ...base, criticality_level: 5 }, 400, 'INPUT_INVALID'],
      ['criticality true', 'bad-crit2', { ...base, criticality_level: true }, 400, 'INPUT_INVALID'],
      ['criticality 2.5', 'bad-crit3', { ...base, criticality_level: 2.5 }, 400, 'INPUT_INVALID'],
      ['a numeric name', 'bad-name', { ...base, name: 42 }, 400, 'INPUT_INVALID'],
      ['an empty name', 'bad-name2', { ...base, name: '  ' }, 400, 'INPUT_INVALID'],
      [
        'a description over 10 KB',
        'bad-desc',
        { ...base, description: 'x'.repeat(10 * 1024 + 1) },
        400,
        'INPUT_INVALID',
      ],
      [
        'a description over 10 KB in UTF-8 bytes',
        'bad-desc2',
        { ...base, description: 'ü'.repeat(5 * 1024 + 1) },
        400,
        'INPUT_INVALID',
      ],
      ['an unknown field', 'bad-field', { ...base, colour: 'blue' }, 400, 'INPUT_INVALID'],
      [
        'a missing name on creation',
        'bad-missing',
        { team_id: 'team-a', active: true },
        400,
        'MISSING_FIELDS',
      ],
      ['a missing team on creation', 'bad-missing2', { name: 'X', active: true }, 400, 'MISSING_FIELDS'],
      ['a body id that differs from the path', 'bad-idm', { ...base, id: 'other-id' }, 400, 'ID_MISMATCH'],
      ['an array body', 'bad-array', [base], 400, 'INPUT_INVALID'],
      ['a non-member', 'bad-member', base, 403, 'NOT_TEAM_MEMBER'],
    ];
    it.each(cases)('rejects %s', async (_name, id, payload, status, code) => {
      const response = await put(id, payload, id === 'bad-member' ? mallory : jdoe);
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status, code });
      expect(await h.kio.store.get(id)).toBeUndefined();
    });

    it('names the offending field', async () => {
      const unknown = (await put('bad-field', { ...base, colour: 'blue' }, jdoe)).json();
      expect(JSON.stringify(unknown.errors)).toContain('colour');
      const url = (await put('bad-url', { ...base, service_url: 'nope' }, jdoe)).json();
      expect(url.detail).toContain('must be an http:// or https:// URL');
      const team = (await put('bad-team', { ...base, team_id: 'no-team' }, jdoe)).json();
      expect(team.detail).toBe('team no-team does not exist');
      const missing = (await put('bad-missing', { team_id: 'team-a' }, jdoe)).json();
      expect(missing.detail).toBe('a new application needs team_id, active, name; missing: active, name');
    });

    it('accepts a description of exactly 10 KB', async () => {
      const ok = await put('big-desc', { ...base, description: 'x'.repeat(10 * 1024) }, jdoe);
      expect(ok.statusCode).toBe(201);
    });

    it('leaves an existing application untouched by a rejected update', async () => {
      await put('stays', FULL, jdoe);
      const before = (await get('/apps/stays')).json();
      for (const payload of [
        { name: 'changed', service_url: 'bad url' },
        { name: 'changed', team_id: 'no-team' },
        { name: 'changed', criticality_level: 0 },
        { name: 'changed', unknown: 1 },
      ]) {
        expect((await put('stays', payload, jdoe)).statusCode).toBe(400);
      }
      expect((await put('stays', { name: 'changed' }, bob)).statusCode).toBe(403);
      expect((await get('/apps/stays')).json()).toEqual(before);
      expect((await get('/apps/stays/history')).json()).toHaveLength(1);
    });
  });

  describe('who may write', () => {
    const create = (id: string, team = 'team-a') => ({ team_id: team, active: true, name: id });

    it('lets members of the owning team write, and nobody else', async () => {
      expect((await put('perm-a', create('perm-a'), jdoe)).statusCode).toBe(201);
      expect((await put('perm-a', { subtitle: 'by alice' }, alice)).statusCode).toBe(200);
      const denied = await put('perm-a', { subtitle: 'by bob' }, bob);
      expect(denied.statusCode).toBe(403);
      expect(denied.json()).toMatchObject({
        code: 'NOT_TEAM_MEMBER',
        detail: 'bob is not a member of team team-a',
      });
      expect((await put('perm-a', { subtitle: 'by mallory' }, mallory)).statusCode).toBe(403);
      expect((await get('/apps/perm-a')).json().subtitle).toBe('by alice');
      // A denied attempt is audited too.
      const events = await h.ctx.auditLog.query({ targetId: 'perm-a', limit: 10 });
      expect(
        events.map((e) => [e.action, e.actor, e.outcome, (e.details as { created?: boolean }).created]),
      ).toEqual([
        ['kio.application.put', 'mallory', 'refused', undefined],
        ['kio.application.put', 'bob', 'refused', undefined],
        ['kio.application.put', 'alice', 'success', false],
        ['kio.application.put', 'jdoe', 'success', true],
      ]);
      expect(events[1]).toMatchObject({
        details: { status: 403, code: 'NOT_TEAM_MEMBER' },
        request_id: denied.headers['x-request-id'],
      });
    });

    it('takes a membership change into account on the next request', async () => {
      await put('perm-live', create('perm-live'), jdoe);
      await h.teams.removeMember('team-a', 'alice');
      try {
        expect((await put('perm-live', { subtitle: 'gone' }, alice)).statusCode).toBe(403);
      } finally {
        await h.teams.addMember('team-a', 'alice');
      }
      expect((await put('perm-live', { subtitle: 'back' }, alice)).statusCode).toBe(200);
    });

    it('lets a member of the current team move an application to another team, as STUPS did', async () => {
      await put('perm-move', create('perm-move'), jdoe);
      // bob is only in the new team: the application is not his to give away.
      const onlyNew = await put('perm-move', { team_id: 'team-b' }, bob);
      expect(onlyNew.statusCode).toBe(403);
      expect(onlyNew.json().detail).toBe('bob is not a member of team team-a');
      expect((await get('/apps/perm-move')).json().team_id).toBe('team-a');
      // jdoe is only in the current team: that is enough.
      const moved = await put('perm-move', { team_id: 'team-b' }, jdoe);
      expect(moved.statusCode).toBe(200);
      expect(moved.json().team_id).toBe('team-b');
      // Now bob owns it and jdoe no longer does.
      expect((await put('perm-move', { subtitle: 'bob' }, bob)).statusCode).toBe(200);
      expect((await put('perm-move', { subtitle: 'jdoe' }, jdoe)).statusCode).toBe(403);
      // The move is audited with the team change, the refusals too.
      const events = await h.ctx.auditLog.query({ targetId: 'perm-move', limit: 10 });
      expect(events.map((e) => [e.action, e.actor, e.outcome])).toEqual([
        ['kio.application.put', 'jdoe', 'refused'],
        ['kio.application.put', 'bob', 'success'],
        ['kio.application.put', 'jdoe', 'success'],
        ['kio.application.put', 'bob', 'refused'],
        ['kio.application.put', 'jdoe', 'success'],
      ]);
      expect(events[2]!.details).toEqual({
        created: false,
        changes: { team_id: { old: 'team-a', new: 'team-b' } },
      });
      // Moving to a team that does not exist is still bad input.
      const nowhere = await put('perm-move', { team_id: 'no-such-team' }, bob);
      expect(nowhere.statusCode).toBe(400);
      expect(nowhere.json().code).toBe('UNKNOWN_TEAM');
    });

    it('lets a service with application.write write its own team’s applications', async () => {
      expect((await put('perm-svc', create('perm-svc'), ciA)).statusCode).toBe(201);
      expect((await put('perm-svc', { subtitle: 'ci' }, ciA)).statusCode).toBe(200);
      expect((await get('/apps/perm-svc')).json()).toMatchObject({
        created_by: 'ci-a',
        last_modified_by: 'ci-a',
      });
      const otherTeam = await put('perm-svc-b', create('perm-svc-b', 'team-b'), ciA);
      expect(otherTeam.statusCode).toBe(403);
      expect(otherTeam.json().code).toBe('NOT_TEAM_MEMBER');
      expect(await h.kio.store.get('perm-svc-b')).toBeUndefined();
      // Acting for the current team includes handing an application over, for services too.
      const move = await put('perm-svc', { team_id: 'team-b' }, ciA);
      expect(move.statusCode).toBe(200);
      expect((await put('perm-svc', { subtitle: 'gone' }, ciA)).statusCode).toBe(403);
    });

    it('refuses services without application.write or without an application', async () => {
      await put('perm-svc2', create('perm-svc2'), jdoe);
      const noScope = await put('perm-svc2', { subtitle: 'x' }, ciANoScope);
      expect(noScope.statusCode).toBe(403);
      expect(noScope.json().code).toBe('INSUFFICIENT_SCOPE');
      expect(noScope.headers['www-authenticate']).toContain('scope="application.write"');
      const unregistered = await put('perm-svc2', { subtitle: 'x' }, ghost);
      expect(unregistered.statusCode).toBe(403);
      expect(unregistered.json().detail).toBe('service ghost is not a registered application');
      expect((await get('/apps/perm-svc2')).json().subtitle).toBeNull();
    });

    it('lets administrators (admin employees, services with stups.admin) write anything', async () => {
      expect((await put('perm-admin', create('perm-admin', 'team-b'), robotAdmin)).statusCode).toBe(201);
      expect((await put('perm-admin', { team_id: 'team-a' }, robotAdmin)).statusCode).toBe(200);
      expect((await put('perm-admin', { team_id: 'team-b' }, admin)).statusCode).toBe(200);
      const adminScopeAsEmployee = await h.as('carol', { scopes: ['uid', 'stups.admin'] });
      expect((await put('perm-admin', { subtitle: 'x' }, adminScopeAsEmployee)).statusCode).toBe(403);
    });
  });

  describe('history', () => {
    it('lists every change newest first with old and new values', async () => {
      await put('hist', { team_id: 'team-a', active: true, name: 'Hist' }, jdoe);
      await put('hist', { name: 'History', subtitle: 'sub' }, alice);
      await put('hist', { name: 'History' }, alice); // no change: no entry
      await put('hist', { active: 'false' }, jdoe);
      const history = await get('/apps/hist/history');
      expect(history.statusCode).toBe(200);
      const entries = history.json();
      expect(entries.map((e: { action: string; changed_by: string }) => [e.action, e.changed_by])).toEqual([
        ['update', 'jdoe'],
        ['update', 'alice'],
        ['create', 'jdoe'],
      ]);
      expect(entries[0].changes).toEqual({ active: { old: true, new: false } });
      expect(entries[1].changes).toEqual({
        name: { old: 'Hist', new: 'History' },
        subtitle: { old: null, new: 'sub' },
      });
      expect(entries[2].changes).toMatchObject({
        team_id: { old: null, new: 'team-a' },
        name: { old: null, new: 'Hist' },
        criticality_level: { old: null, new: 2 },
      });
      expect(entries[0]).toMatchObject({
        application_id: 'hist',
        changed_at: expect.stringMatching(TIMESTAMP),
        changed_by_realm: 'employees',
      });
    });
  });

  describe('concurrent updates', () => {
    it('never loses a field when two PUTs race', async () => {
      await put('race', { team_id: 'team-a', active: true, name: 'Race' }, jdoe);
      const [first, second] = await Promise.all([
        put('race', { subtitle: 'from jdoe' }, jdoe),
        put('race', { incident_contact: 'from alice' }, alice),
      ]);
      expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
      expect((await get('/apps/race')).json()).toMatchObject({
        subtitle: 'from jdoe',
        incident_contact: 'from alice',
      });
      const changes = (await get('/apps/race/history')).json().map((e: { changes: object }) => e.changes);
      expect(changes).toHaveLength(3);
      expect(changes).toEqual(
        expect.arrayContaining([
          { subtitle: { old: null, new: 'from jdoe' } },
          { incident_contact: { old: null, new: 'from alice' } },
        ]),
      );
    });

    it('keeps every field of many racing writers, and creates once', async () => {
      const fields = {
        subtitle: 's',
        description: 'd',
        service_url: 'https://a.example.org',
        scm_url: 'https://b.example.org',
        documentation_url: 'https://c.example.org',
        specification_url: 'https://d.example.org',
        support_url: 'https://e.example.org',
        specification_type: 'JIRA',
        incident_contact: 'ic',
      };
      const base = { team_id: 'team-a', active: true, name: 'Stampede' };
      const responses = await Promise.all(
        Object.entries(fields).map(([k, v]) => put('stampede', { ...base, [k]: v }, jdoe)),
      );
      expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1);
      expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(Object.keys(fields).length - 1);
      expect((await get('/apps/stampede')).json()).toMatchObject(fields);
      expect((await get('/apps/stampede/history')).json()).toHaveLength(Object.keys(fields).length);
    });
  });

  describe('listing', () => {
    beforeAll(async () => {
      for (const [id, team, active, contact] of [
        ['list-one', 'team-b', true, 'pager-1'],
        ['list-two', 'team-b', false, 'pager-1'],
        ['list-three', 'team-b', true, 'pager-2'],
      ] as const) {
        await put(id, { team_id: team, active, name: id, incident_contact: contact }, alice);
      }
    });

    it('filters by team, activity and incident contact', async () => {
      const ids = async (query: string) =>
        (await get(`/apps?${query}`)).json().map((a: { id: string }) => a.id);
      const ofTeamB = await ids('team_id=team-b');
      expect(ofTeamB).toEqual(expect.arrayContaining(['list-one', 'list-three', 'list-two']));
      expect(ofTeamB.every((id: string) => id.startsWith('list-') || id.startsWith('perm-'))).toBe(true);
      expect(await ids('team_id=team-b&incident_contact=pager-1')).toEqual(['list-one', 'list-two']);
      expect(await ids('team_id=team-b&incident_contact=pager-1&active=false')).toEqual(['list-two']);
      expect(await ids('team_id=team-b&incident_contact=pager-1&active=true')).toEqual(['list-one']);
      expect(await ids('team_id=team-b&incident_contact=pager-1&limit=1&offset=1')).toEqual(['list-two']);
    });

    it('answers [] rather than an empty body', async () => {
      const none = await get('/apps?team_id=nobody');
      expect(none.statusCode).toBe(200);
      expect(none.body).toBe('[]');
    });

    it('filters by modification time', async () => {
      const all = (await get('/apps?team_id=team-b&incident_contact=pager-1')).json();
      const latest = all
        .map((a: { last_modified: string }) => a.last_modified)
        .sort()
        .at(-1);
      const after = (await get(`/apps?modified_after=${latest}`)).json().map((a: { id: string }) => a.id);
      expect(after).toContain('list-two');
      expect(after).not.toContain('order-engine');
      const before = (await get('/apps?modified_before=2000-01-01T00:00:00.000Z')).json();
      expect(before).toEqual([]);
      expect((await get('/apps?modified_after=yesterday')).statusCode).toBe(400);
      expect((await get('/apps?active=maybe')).statusCode).toBe(400);
      expect((await get('/apps?unknown=1')).statusCode).toBe(400);
    });
  });
});
