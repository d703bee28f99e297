import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import { type Database, openDatabase } from '../../platform/db/database.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { createTestIssuer } from '../../platform/test-support/test-issuer.js';
import { teamMigrations } from '../../teams/migrations.js';
import { TeamStore } from '../../teams/store.js';
import { createKioService, kioMigrations } from '../index.js';
import { kioProgram, parseAssignments } from './main.js';

describe('kio CLI against a malformed answer', () => {
  it('names what it expected in one line and exits 1', async () => {
    // A "Kio" that answers 200 with something that is not an application list.
    const fetchStub: typeof fetch = async () =>
      new Response(JSON.stringify([{ id: 42 }]), { headers: { 'content-type': 'application/json' } });
    const io = await captureIo({ env: { KIO_URL: 'http://kio.invalid', OAUTH2_ACCESS_TOKENS: 'default=t' } });
    const code = await runCli(kioProgram({ io, fetch: fetchStub }), ['app', 'list'], io);
    await io.cleanup();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/^kio: Kio answered something that is not an application list: 0: .+\n$/);
    expect(io.out()).toBe('');
  });

  it('does not send back an application it could not read (update)', async () => {
    // A "Kio" whose application is a list: writing it back would replace the application with junk.
    const methods: string[] = [];
    const fetchStub: typeof fetch = async (_url, init) => {
      methods.push(init?.method ?? 'GET');
      return new Response(JSON.stringify(['hello-world']), {
        headers: { 'content-type': 'application/json' },
      });
    };
    const io = await captureIo({ env: { KIO_URL: 'http://kio.invalid', OAUTH2_ACCESS_TOKENS: 'default=t' } });
    const code = await runCli(
      kioProgram({ io, fetch: fetchStub }),
      ['app', 'update', 'hello-world', 'active=false'],
      io,
    );
    await io.cleanup();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/^kio: Kio answered something that is not an application: .+\n$/);
    expect(methods).toEqual(['GET']);
  });
});

describe('kio CLI against a running Kio', () => {
  let database: Database;
  let app: HttpApp;
  let kioUrl: string;
  let jdoe: string;
  let bob: string;

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, [
      ...KERNEL_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
      { component: 'kio', migrations: kioMigrations },
    ]);
    const teams = new TeamStore(database);
    await teams.putTeam('demo', { name: 'Demo', members: ['jdoe'] });
    await teams.putTeam('shop', { name: 'Shop', members: ['bob'] });
    const issuer = await createTestIssuer();
    jdoe = await issuer.token({ uid: 'jdoe' });
    bob = await issuer.token({ uid: 'bob' });
    app = await createKioService(createTestContext(database, issuer.verifier), { teams }).createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    kioUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await database?.destroy();
  });

  async function kio(args: string[], token = jdoe): Promise<CapturedIo & { code: number }> {
    const io = await captureIo({ env: { KIO_URL: kioUrl, OAUTH2_ACCESS_TOKENS: `default=${token}` } });
    const code = await runCli(kioProgram({ io }), args, io);
    await io.cleanup();
    return Object.assign(io, { code });
  }

  it('creates, shows, updates and lists applications with abbreviated commands', async () => {
    const created = await kio([
      'app',
      'cr',
      'hello-world',
      '-t',
      'demo',
      '-n',
      'Hello World',
      'description=Says hello to the world',
    ]);
    expect(created.err()).toBe('');
    expect(created.out()).toBe('Created application hello-world (team demo).\n');

    const again = await kio(['app', 'create', 'hello-world', '-t', 'demo']);
    expect(again.code).toBe(1);
    expect(again.err()).toBe(
      'kio: application hello-world already exists; change it with "kio app update hello-world key=value"\n',
    );

    const shown = await kio(['app', 'show', 'hello-world', '-o', 'json']);
    expect(JSON.parse(shown.out())).toMatchObject({
      id: 'hello-world',
      team_id: 'demo',
      name: 'Hello World',
      active: true,
      created_by: 'jdoe',
      required_approvers: expect.any(Number),
    });

    const updated = await kio([
      'a',
      'up',
      'hello-world',
      'criticality_level=3',
      'scm_url=https://git.example.org/demo/hello-world',
    ]);
    expect(updated.out()).toBe('Updated application hello-world: criticality_level, scm_url.\n');
    const after = JSON.parse((await kio(['app', 'show', 'hello-world', '-o', 'json'])).out());
    // The whole object went back: nothing else changed.
    expect(after).toMatchObject({
      criticality_level: 3,
      description: 'Says hello to the world',
      name: 'Hello World',
    });

    const list = await kio(['app', 'list', '-o', 'tsv']);
    expect(list.out().split('\n')[0]).toBe('id\tteam_id\tname\tactive\tlast_modified');
    expect(list.out()).toContain('hello-world\tdemo\tHello World\ttrue\t');
  });

  it('searches, hides inactive applications unless --all, and shows history', async () => {
    await kio(['app', 'create', 'order-engine', '-t', 'demo', 'description=Takes orders from the world']);
    const found = await kio(['app', 'list', '--search', 'world', '-o', 'json']);
    const hits = JSON.parse(found.out());
    expect(hits.map((h: { id: string }) => h.id)).toEqual(['hello-world', 'order-engine']);
    expect(hits[0].matched_description).toContain('world');

    await kio(['app', 'update', 'order-engine', 'active=false']);
    expect(
      JSON.parse((await kio(['app', 'list', '-o', 'json'])).out()).map((a: { id: string }) => a.id),
    ).toEqual(['hello-world']);
    expect(JSON.parse((await kio(['app', 'list', '--all', '-o', 'json'])).out())).toHaveLength(2);

    const history = await kio(['app', 'history', 'order-engine', '-o', 'json']);
    const changes = JSON.parse(history.out());
    expect(changes[0]).toMatchObject({
      action: 'update',
      changed_by: 'jdoe',
      changes: { active: { old: true, new: false } },
    });
  });

  it('reports refusals and bad input in one line with the right exit code', async () => {
    const notMember = await kio(['app', 'update', 'hello-world', 'name=Mine'], bob);
    expect(notMember.code).toBe(1);
    expect(notMember.err()).toMatch(/^kio: Kio answered 403: .*demo/);
    expect(notMember.err().trim().split('\n')).toHaveLength(1);

    const unknownTeam = await kio(['app', 'create', 'new-app', '-t', 'ghosts']);
    expect(unknownTeam.code).toBe(1);
    expect(unknownTeam.err()).toMatch(/^kio: Kio answered 400: .*ghosts/);

    expect((await kio(['app', 'show', 'Bad_Id'])).code).toBe(2);
    const missing = await kio(['app', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.err()).toMatch(/^kio: Kio answered 404/);
    const badField = await kio(['app', 'update', 'hello-world', 'colour=red']);
    expect(badField.code).toBe(2);
    expect(badField.err()).toContain('unknown field "colour"');
  });

  it('needs a configured URL', async () => {
    const io = await captureIo({ env: { OAUTH2_ACCESS_TOKENS: `default=${jdoe}` } });
    expect(await runCli(kioProgram({ io }), ['app', 'list'], io)).toBe(1);
    expect(io.err()).toBe('kio: no Kio URL configured: run "stups configure URL" or set KIO_URL\n');
    await io.cleanup();
  });
});

describe('parseAssignments', () => {
  it('types values by field and rejects the rest', () => {
    expect(parseAssignments(['active=false', 'criticality_level=2', 'name=x=y', 'subtitle='])).toEqual({
      active: false,
      criticality_level: 2,
      name: 'x=y',
      subtitle: '',
    });
    expect(() => parseAssignments(['active=yes'])).toThrow('active must be true or false');
    expect(() => parseAssignments(['novalue'])).toThrow('expected key=value');
  });
});
