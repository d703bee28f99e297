import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvenService, evenMigrations } from '../even/index.js';
import { RecordingBastion } from '../even/test-support.js';
import { type Database, openDatabase } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import { freePorts } from '../stups/free-ports.js';
import { teamMigrations } from '../teams/migrations.js';
import { TeamStore } from '../teams/store.js';
import { userMigrations } from '../users/migrations.js';
import { UserStore } from '../users/store.js';
import { findClipboard } from './clipboard.js';
import { runPiu, splitHostAndReason, withDefaultCommand } from './cli/main.js';

const ODD = 'odd-eu-west-1.myteam.example.org';

describe('piu against a running even', () => {
  let database: Database;
  let app: HttpApp;
  let evenUrl: string;
  let bastion: RecordingBastion;
  let tools: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, [
      ...KERNEL_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
      { component: 'users', migrations: userMigrations },
      { component: 'even', migrations: evenMigrations },
    ]);
    const teams = new TeamStore(database);
    const users = new UserStore(database);
    await teams.putTeam('myteam', { name: 'My Team', members: ['jdoe'] });
    await teams.putTeam('other', { name: 'Other', members: ['bob'] });
    for (const uid of ['jdoe', 'bob']) {
      await users.putUser(uid, { name: uid, email: `${uid}@example.org` });
      await users.addSshKey(
        uid,
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x',
      );
    }
    const issuer = await createTestIssuer();
    tokens.jdoe = await issuer.token({ uid: 'jdoe' });
    tokens.bob = await issuer.token({ uid: 'bob' });
    bastion = new RecordingBastion();
    app = await createEvenService(createTestContext(database, issuer.verifier), {
      teams,
      users,
      bastion,
      config: { ssh: { privateKey: 'unused', acceptAnyHostKey: true } },
    }).createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    evenUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    tools = await mkdtemp(join(tmpdir(), 'piu-tools-'));
  });

  afterAll(async () => {
    await app?.close();
    await database?.destroy();
    await rm(tools, { recursive: true, force: true });
  });

  async function piu(args: string[], env: Record<string, string> = {}, stdin?: string, token = tokens.jdoe) {
    const io = await captureIo({
      env: { OAUTH2_ACCESS_TOKENS: `default=${token}`, ...env },
      ...(stdin === undefined ? {} : { stdin }),
    });
    const code = await runPiu(args, { io });
    const config = await readFile(join(io.home, '.config', 'piu', 'piu.yaml'), 'utf8').catch(() => '');
    await io.cleanup();
    return { code, out: io.out(), err: io.err(), config };
  }

  it('requests access with the short form, sends remote_host only when it differs, remembers settings', async () => {
    const result = await piu(['172.31.146.1', 'Troubleshoot', 'problem', 'XY', '-O', ODD, '-E', evenUrl]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `Access to host ${ODD} for user jdoe was granted.\n` +
        'You can now access your server with the following command:\n' +
        `ssh -tA jdoe@${ODD} ssh -o StrictHostKeyChecking=no jdoe@172.31.146.1\n`,
    );
    expect(bastion.calls.at(-1)!.command).toBe(
      'grant-ssh-access --lifetime-minutes=60 --remote-host=172.31.146.1 jdoe',
    );
    expect(result.config).toBe(`even_url: ${evenUrl}\nodd_host: ${ODD}\n`);

    const bastionOnly = await piu(['request-access', ODD, 'reason', '--lifetime', '15'], {
      PIU_EVEN_URL: evenUrl,
      PIU_ODD_HOST: ODD,
    });
    expect(bastionOnly.code).toBe(0);
    expect(bastion.calls.at(-1)!.command).toBe('grant-ssh-access --lifetime-minutes=15 jdoe');
  });

  it('takes HOST as the bastion when no odd host is known, as docs/walkthrough.md runs it', async () => {
    const calls = bastion.calls.length;
    const result = await piu([ODD, 'Investigating the 5xx alert'], { PIU_EVEN_URL: evenUrl });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `Access to host ${ODD} for user jdoe was granted.\n` +
        'You can now access your server with the following command:\n' +
        `ssh -tA jdoe@${ODD}\n`,
    );
    expect(bastion.calls.slice(calls).map((c) => c.command)).toEqual([
      'grant-ssh-access --lifetime-minutes=60 jdoe',
    ]);
    expect(result.config).toBe(`even_url: ${evenUrl}\nodd_host: ${ODD}\n`);

    // even, which knows the hostname templates, says when the name is no bastion.
    const notBastion = await piu(['web-1.example.org', 'reason'], { PIU_EVEN_URL: evenUrl });
    expect(notBastion.code).toBe(1);
    expect(notBastion.err).toMatch(
      /^piu: Access to host web-1\.example\.org was denied: access denied: host web-1\.example\.org is not a known bastion/,
    );
    // An address is an instance behind a bastion: which bastion must be said.
    expect(await piu(['10.0.0.1', 'reason'], { PIU_EVEN_URL: evenUrl })).toMatchObject({
      code: 2,
      err: 'piu: no odd host to reach 10.0.0.1 through: use -O odd-<region>.<team>.example.org, set odd_host in ~/.config/piu/piu.yaml or PIU_ODD_HOST\n',
    });
    expect(bastion.calls.length).toBe(calls + 1);
  });

  it('asks for everything in interactive mode (PIU_INTERACTIVE)', async () => {
    const result = await piu([], { PIU_INTERACTIVE: 'true' }, `${evenUrl}\n${ODD}\n10.0.0.7\nlook at logs\n`);
    expect(result.code).toBe(0);
    expect(result.err).toContain('even URL (e.g. https://even.stups.example.org): ');
    expect(result.err).toContain('Reason: ');
    expect(bastion.calls.at(-1)!.command).toBe(
      'grant-ssh-access --lifetime-minutes=60 --remote-host=10.0.0.7 jdoe',
    );
  });

  it('says clearly when access is denied, the request is bad, or even is unreachable', async () => {
    const env = { PIU_EVEN_URL: evenUrl, PIU_ODD_HOST: ODD };
    const denied = await piu(['reason'], env, undefined, tokens.bob);
    expect(denied).toMatchObject({ code: 1, out: '' });
    expect(denied.err).toMatch(
      /^piu: Access to host odd-eu-west-1\.myteam\.example\.org was denied: access denied: bob is not a member of team myteam, which owns host odd-eu-west-1\.myteam\.example\.org \(request \d+\)\n$/,
    );
    const unknown = await piu(['reason', '-O', 'bastion.example.org'], env);
    expect(unknown.err).toMatch(
      /^piu: Access to host bastion\.example\.org was denied: access denied: host bastion\.example\.org is not a known bastion/,
    );

    const [closed] = await freePorts(1);
    const unreachable = await piu(['reason'], {
      PIU_EVEN_URL: `http://127.0.0.1:${closed}`,
      PIU_ODD_HOST: ODD,
    });
    expect(unreachable).toMatchObject({
      code: 1,
      err: `piu: cannot reach even at http://127.0.0.1:${closed}: ECONNREFUSED\n`,
    });

    const failing = bastion.answer;
    bastion.answer = () => ({
      exitCode: 1,
      stdout: '',
      stderr: 'grant-ssh-access: even has no public SSH key for jdoe\n',
    });
    const failed = await piu(['reason'], env);
    bastion.answer = failing;
    expect(failed.err).toBe(
      `piu: Access request to ${ODD} failed: granting access to host ${ODD} for user jdoe failed: grant-ssh-access: even has no public SSH key for jdoe\n`,
    );

    expect(await piu(['10.0.0.1'], env)).toMatchObject({
      code: 2,
      err: 'piu: a reason is required: piu 10.0.0.1 "why you need access"\n',
    });
    expect(await piu(['reason'], { PIU_EVEN_URL: evenUrl })).toMatchObject({ code: 2 });
    expect((await piu(['reason'], { PIU_EVEN_URL: evenUrl })).err).toMatch(/^piu: no odd host: use -O/);
    expect((await piu(['reason'], { PIU_ODD_HOST: ODD })).err).toMatch(/^piu: no even URL: use -E URL/);
    expect((await piu(['bad;host', 'reason'], env)).err).toBe(
      'piu: invalid host "bad;host": lowercase letters, digits, "." and "-"\n',
    );
    expect((await piu(['x', 'reason', '--lifetime', 'forever'], env)).err).toBe(
      'piu: --lifetime must be whole minutes\n',
    );
  });

  it('--clip fails before requesting when no clipboard program exists, and copies with one', async () => {
    const calls = bastion.calls.length;
    const env = { PIU_EVEN_URL: evenUrl, PIU_ODD_HOST: ODD, PATH: join(tools, 'empty') };
    const none = await piu(['reason', '--clip'], env);
    expect(none).toMatchObject({ code: 1, out: '' });
    expect(none.err).toBe(
      'piu: --clip needs a clipboard program, and none of wl-copy, xclip, xsel is installed (e.g. apt-get install xclip)\n',
    );
    expect(bastion.calls.length).toBe(calls);

    // A stand-in xclip that stores what it is given: the piping is what is under test.
    const bin = join(tools, 'bin');
    await mkdir(bin, { recursive: true });
    const clipped = join(tools, 'clipped');
    await writeFile(join(bin, 'xclip'), `#!/bin/sh\ncat > '${clipped}'\n`);
    await chmod(join(bin, 'xclip'), 0o755);
    const copied = await piu(['reason', '--clip'], { ...env, PATH: `${bin}:/usr/bin:/bin` });
    expect(copied.err).toBe('Copied to the clipboard with xclip.\n');
    expect(await readFile(clipped, 'utf8')).toBe(`ssh -tA jdoe@${ODD}`);
  });

  it('configure stores the even URL and odd host', async () => {
    const result = await piu(['configure', '-E', 'even.example.org/', '-O', ODD]);
    expect(result.code).toBe(0);
    expect(result.config).toBe(`even_url: https://even.example.org\nodd_host: ${ODD}\n`);
  });
});

describe('piu argument handling', () => {
  it('treats any first word that is not a command as the short form', () => {
    expect(withDefaultCommand(['10.0.0.1', 'why'])).toEqual(['request-access', '10.0.0.1', 'why']);
    expect(withDefaultCommand(['-O', 'odd', 'why'])).toEqual(['request-access', '-O', 'odd', 'why']);
    expect(withDefaultCommand(['req', 'why'])).toEqual(['req', 'why']);
    expect(withDefaultCommand(['configure'])).toEqual(['configure']);
    expect(withDefaultCommand(['--help'])).toEqual(['--help']);
    expect(withDefaultCommand([])).toEqual(['request-access']);
  });

  it('reads [HOST] REASON', () => {
    expect(splitHostAndReason(['just a reason'])).toEqual({ reason: 'just a reason' });
    expect(splitHostAndReason(['h.example.org', 'a', 'b'])).toEqual({ host: 'h.example.org', reason: 'a b' });
    expect(() => splitHostAndReason(['172.31.1.1'])).toThrow('a reason is required');
  });

  it('finds clipboard programs per platform', () => {
    expect(() => findClipboard({ PATH: '' }, 'linux')).toThrow(/--clip needs a clipboard program/);
    expect(() => findClipboard({ PATH: '' }, 'darwin')).toThrow('none of pbcopy is installed');
  });
});
