import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyArgs, ImageBuilder, skopeo } from '../../src/pierone/test-support/registry-harness.js';
import { SERVICE_NAMES } from '../../src/platform/service-context.js';
import { freePortBlock } from '../../src/stups/free-ports.js';
import { ROOT, type RunningStups, STUPS, startStups } from './support/start-stups.js';

/*
 * The walkthrough's first steps against the real programs: `stups up` as a child process,
 * `zign` as a child process, plain HTTP in between. Needs `npm run build` (npm test does it).
 */

const ZIGN = join(ROOT, 'bin/zign.js');
const KIO = join(ROOT, 'bin/kio.js');
const PIERONE = join(ROOT, 'bin/pierone.js');

let dataDir: string;
let home: string;
let basePort: number;
const url = (service: (typeof SERVICE_NAMES)[number]) =>
  `http://localhost:${basePort + SERVICE_NAMES.indexOf(service)}`;

function startPlatform(): Promise<RunningStups> {
  return startStups(['up', '--data-dir', dataDir, '--base-port', String(basePort)], { DATABASE_URL: '' });
}

/** A program as a developer runs it: own HOME, our credential helper on PATH, no service URLs in env. */
async function runCommand(
  command: string,
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: home,
    // No ZIGN_URL: `stups configure` must have written everything the tools need.
    env: { PATH: `${join(home, 'bin')}:${process.env.PATH}`, HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin.end(stdin);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, stdout, stderr };
}

const run = (bin: string, args: string[], stdin = '') => runCommand(process.execPath, [bin, ...args], stdin);
const zign = (args: string[], stdin = '') => run(ZIGN, args, stdin);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('stups up, end to end', () => {
  let stups: RunningStups | undefined;
  let jdoeToken: string;
  let adminToken: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-e2e-data-'));
    home = await mkdtemp(join(tmpdir(), 'stups-e2e-home-'));
    // What `npm install -g` would do for the Docker credential helper.
    await mkdir(join(home, 'bin'));
    await symlink(
      join(ROOT, 'bin/docker-credential-pierone.js'),
      join(home, 'bin/docker-credential-pierone'),
    );
    basePort = await freePortBlock(SERVICE_NAMES.length);
    stups = await startPlatform();
  }, 120_000);

  afterAll(async () => {
    if (stups && stups.child.exitCode === null) {
      stups.child.kill('SIGKILL');
      await stups.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  });

  it('prints the service URLs and the demo logins', () => {
    const out = stups!.output();
    expect(out).toContain(`token-service  ${url('token-service')}`);
    expect(out).toContain(`teams          ${url('teams')}`);
    expect(out).toContain('jdoe / jdoe-demo   (teams: demo)');
  });

  it('configures the command line tools from any service URL', async () => {
    const configured = await run(STUPS, ['configure', url('teams')]);
    expect(configured.stderr).toBe('');
    expect(configured.code).toBe(0);
    expect(configured.stdout).toContain(`zign.yaml: url = ${url('token-service')}`);
    const notStups = await run(STUPS, ['configure', `${url('token-service')}/oauth2`]);
    expect(notStups.code).toBe(1);
    expect(notStups.stderr).toMatch(/^stups: .* is not a STUPS platform service/);
  });

  it('logs in with zign, reads tokeninfo and lists teams', async () => {
    const login = await zign(['token', '--user', 'jdoe', '--password-stdin'], 'jdoe-demo\n');
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    jdoeToken = login.stdout.trim();
    expect(jdoeToken.split('.')).toHaveLength(3);

    const info = await fetch(`${url('token-service')}/oauth2/tokeninfo?access_token=${jdoeToken}`);
    expect(info.status).toBe(200);
    const body = await info.json();
    expect(body).toMatchObject({
      uid: 'jdoe',
      realm: '/employees',
      scope: ['uid'],
      // The scope `uid` would add "uid": true, but the user id (truthy, as scope checks need) wins.
      token_type: 'Bearer',
    });
    expect(body.expires_in).toBeGreaterThan(3500);

    // A second call is served from zign's cache: the same token.
    expect((await zign(['token'])).stdout.trim()).toBe(jdoeToken);

    const teams = await fetch(`${url('teams')}/teams`, { headers: bearer(jdoeToken) });
    expect(teams.status).toBe(200);
    expect((await teams.json()).map((t: { id: string }) => t.id)).toEqual(['demo', 'shop', 'stups']);
    // The demo organisation's applications are registered in Kio and searchable.
    const search = await fetch(`${url('kio')}/apps?search=registry`, { headers: bearer(jdoeToken) });
    expect((await search.json()).map((a: { id: string }) => a.id)).toContain('kio');
    const mine = await fetch(`${url('teams')}/api/teams?member=jdoe`, { headers: bearer(jdoeToken) });
    expect((await mine.json()).map((t: { id: string }) => t.id)).toEqual(['demo']);
  });

  it('registers an application with kio and pushes its image to Pier One with scm-source', async () => {
    const created = await run(KIO, [
      'app',
      'create',
      'hello-world',
      '--team',
      'demo',
      'description=Says hello',
    ]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('Created application hello-world (team demo).\n');

    const builder = await ImageBuilder.create();
    try {
      const scmSource = {
        url: 'https://git.example.org/demo/hello-world',
        revision: 'abc123',
        author: 'jdoe',
        status: '',
      };
      const image = await builder.image('1.0', [
        { 'scm-source.json': JSON.stringify(scmSource), 'app/hello.txt': 'hello' },
      ]);
      const registry = new URL(url('pierone')).host;
      const push = await skopeo([
        ...copyArgs({ destToken: jdoeToken }),
        image,
        `docker://${registry}/demo/hello-world:1.0`,
      ]);
      expect(push.stderr).toBe('');
      expect(push.code).toBe(0);
      const scm = await fetch(`${url('pierone')}/teams/demo/artifacts/hello-world/tags/1.0/scm-source`, {
        headers: bearer(jdoeToken),
      });
      expect(await scm.json()).toMatchObject(scmSource);
      const latest = await run(PIERONE, ['latest', 'demo', 'hello-world']);
      expect(latest.stdout).toBe('1.0\n');

      // bob is not in team demo: the registry refuses his push.
      const bob = await zign(['token', '-n', 'bob', '--user', 'bob', '--password-stdin'], 'bob-demo\n');
      const denied = await skopeo([
        ...copyArgs({ destToken: bob.stdout.trim() }),
        image,
        `docker://${registry}/demo/hello-world:1.1`,
      ]);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/denied|unauthorized|forbidden/i);
    } finally {
      await builder.dispose();
    }
  }, 120_000);

  it('refuses a wrong password in one line with exit code 1', async () => {
    const wrong = await zign(['token', '-n', 'other', '--user', 'jdoe', '--password-stdin'], 'nope\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^zign: invalid_grant/);
  });

  it('keeps data across a clean restart and tokens stay valid', async () => {
    const admin = await zign(['token', '-n', 'admin', '--user', 'admin', '--password-stdin'], 'admin-demo\n');
    expect(admin.code).toBe(0);
    adminToken = admin.stdout.trim();
    const put = await fetch(`${url('teams')}/api/teams/persist-check`, {
      method: 'PUT',
      headers: { ...bearer(adminToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Persistence check', members: ['jdoe'] }),
    });
    expect(put.status).toBe(201);

    stups!.child.kill('SIGTERM');
    expect(await stups!.exited).toBe(0);
    expect(stups!.output()).toContain('stups stopped.');

    stups = await startPlatform();
    const team = await fetch(`${url('teams')}/teams/persist-check`, { headers: bearer(jdoeToken) });
    expect(team.status).toBe(200);
    expect((await team.json()).members).toEqual(['jdoe']);
    const app = await fetch(`${url('kio')}/apps/hello-world`, { headers: bearer(jdoeToken) });
    expect((await app.json()).team_id).toBe('demo');
    const tags = await fetch(`${url('pierone')}/teams/demo/artifacts/hello-world/tags`, {
      headers: bearer(jdoeToken),
    });
    expect((await tags.json()).map((t: { name: string }) => t.name)).toEqual(['1.0']);
  }, 120_000);

  it('loses no committed data when the process is killed', async () => {
    const put = await fetch(`${url('teams')}/api/teams/crash-check`, {
      method: 'PUT',
      headers: { ...bearer(adminToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Crash check' }),
    });
    expect(put.status).toBe(201);
    stups!.child.kill('SIGKILL');
    await stups!.exited;

    stups = await startPlatform();
    const team = await fetch(`${url('teams')}/teams/crash-check`, { headers: bearer(adminToken) });
    expect(team.status).toBe(200);
    const audit = await fetch(`${url('teams')}/audit-events?target_id=crash-check`, {
      headers: bearer(adminToken),
    });
    expect(audit.status).toBe(200);
    expect((await audit.json())[0]).toMatchObject({
      actor: 'admin',
      action: 'teams.team.put',
      outcome: 'success',
    });
    const notAdmin = await fetch(`${url('teams')}/audit-events`, { headers: bearer(jdoeToken) });
    expect(notAdmin.status).toBe(403);
  }, 120_000);

  it('lists and deletes cached tokens with zign', async () => {
    const list = await zign(['list', '--output', 'json']);
    expect(
      JSON.parse(list.stdout)
        .map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(['admin', 'bob', 'default']);
    expect((await zign(['delete', 'admin'])).code).toBe(0);
    const again = await zign(['delete', 'admin']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('zign: no token named "admin"\n');
  });
});
