import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvenService, type EvenService, evenMigrations, generateEvenKeyPair } from '../even/index.js';
import {
  startLoopbackBastion,
  bastionUnavailableReason,
  type LoopbackBastion,
} from '../odd/test-support/loopback-bastion.js';
import { type Database, openDatabase } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { sshKeygen } from '../platform/test-support/ssh-keygen.js';
import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import { freePorts } from '../stups/free-ports.js';
import { teamMigrations } from '../teams/migrations.js';
import { TeamStore } from '../teams/store.js';
import { userMigrations } from '../users/migrations.js';
import { UserStore } from '../users/store.js';
import { runPiu } from './cli/main.js';

const execFileAsync = promisify(execFile);
const unavailable = bastionUnavailableReason();
if (unavailable) console.warn(`SKIPPING the even/odd/Più tests with a real sshd: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('Più → even → odd on a real sshd bastion', () => {
  let database: Database;
  let bastion: LoopbackBastion;
  let service: EvenService;
  let app: HttpApp;
  let evenUrl: string;
  let evenPrivateKey: string;
  let scratch: string;
  const tokens: Record<string, string> = {};
  const keys: Record<string, { publicKey: string; privateKey: string }> = {};
  let member: string;
  let outsider: string;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'piu-e2e-'));
    const [evenPort] = await freePorts(1);
    evenUrl = `http://127.0.0.1:${evenPort}`;
    const evenKeys = generateEvenKeyPair();
    evenPrivateKey = evenKeys.privateKey;
    bastion = await startLoopbackBastion({
      evenUrl,
      evenPublicKey: evenKeys.publicKey,
      maxLifetimeMinutes: 480,
    });
    member = `${bastion.tag}-m`;
    outsider = `${bastion.tag}-o`;

    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, [
      ...KERNEL_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
      { component: 'users', migrations: userMigrations },
      { component: 'even', migrations: evenMigrations },
    ]);
    const teams = new TeamStore(database);
    const users = new UserStore(database);
    await teams.putTeam(bastion.tag, { name: 'bastion team', members: [member] });
    await teams.putTeam(`${bastion.tag}-x`, { name: 'other team', members: [outsider] });
    const issuer = await createTestIssuer();
    for (const uid of [member, outsider]) {
      await users.putUser(uid, { name: uid, email: `${uid}@example.org` });
      keys[uid] = await sshKeygen('ed25519', { comment: uid });
      await users.addSshKey(uid, keys[uid].publicKey);
      tokens[uid] = await issuer.token({ uid });
    }
    service = createEvenService(createTestContext(database, issuer.verifier), {
      teams,
      users,
      clock: () => new Date(Date.now() + clockOffsetMs),
      config: {
        allowedHosts: [
          { hostname: 'localhost', teams: [bastion.tag], address: '127.0.0.1', port: bastion.port },
        ],
        maxLifetimeMinutes: 480,
        ssh: {
          user: bastion.grantingUser,
          privateKey: evenKeys.privateKey,
          knownHostKeys: [bastion.hostKey],
        },
      },
    });
    app = await service.createApp();
    await app.listen({ host: '127.0.0.1', port: evenPort });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await app?.close();
    await bastion?.stop();
    await database?.destroy();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Runs Più in-process with its config file in a private HOME. */
  async function piu(
    uid: string,
    args: string[],
    extra: { runSsh?: (args: string[]) => Promise<number> } = {},
  ) {
    const io = await captureIo({ env: { OAUTH2_ACCESS_TOKENS: `default=${tokens[uid]}` } });
    await mkdir(join(io.home, '.config', 'piu'), { recursive: true });
    await writeFile(
      join(io.home, '.config', 'piu', 'piu.yaml'),
      `even_url: ${evenUrl}\nodd_host: localhost\nodd_port: "${bastion.port}"\n`,
    );
    const code = await runPiu(args, { io, ...extra });
    await io.cleanup();
    return { code, out: io.out(), err: io.err() };
  }

  const userExists = async (user: string) =>
    execFileAsync('getent', ['passwd', user]).then(
      () => true,
      () => false,
    );

  it('denies a non-member without ever connecting to the bastion', async () => {
    // The only connection so far is the readiness probe of the test's own sshd start.
    const connections = async () => (await bastion.sshdLog()).match(/Connection from/g)?.length ?? 0;
    const before = await connections();
    const denied = await piu(outsider, ['localhost', 'let me in']);
    expect(denied.code).toBe(1);
    expect(denied.err).toBe(
      `piu: Access to host localhost was denied: access denied: host localhost is open to members of ${bastion.tag}; ${outsider} is in none of them (request 1)\n`,
    );
    expect(denied.out).toBe('');
    // Nothing reached sshd: no new connection, and odd never ran.
    expect(await connections()).toBe(before);
    expect(await bastion.sshdLog()).not.toMatch(new RegExp(`Accepted publickey|${outsider}`));
    expect(await bastion.oddLog()).toBe('');
    expect(await userExists(outsider)).toBe(false);
  });

  it('grants a team member, who then logs in with a real ssh', async () => {
    expect(await bastion.login(member, keys[member]!.privateKey)).toMatchObject({ code: 255 });
    const granted = await piu(member, ['Troubleshoot problem XY']);
    expect(granted.err).toBe('');
    expect(granted.code).toBe(0);
    expect(granted.out).toBe(
      `Access to host localhost for user ${member} was granted.\n` +
        'You can now access your server with the following command:\n' +
        `ssh -tA -p ${bastion.port} ${member}@localhost\n`,
    );
    expect(await bastion.login(member, keys[member]!.privateKey)).toEqual({ code: 0, stderr: '' });
    // Another key (the outsider's) does not open the member's account.
    expect((await bastion.login(member, keys[outsider]!.privateKey)).code).toBe(255);
    expect(await bastion.oddLog()).toMatch(
      new RegExp(`grant-ssh-access granted user=${member} until=\\d{14}Z keys=1`),
    );
    const [request] = await service.granting.list({ username: member, limit: 1, offset: 0 });
    expect(request).toMatchObject({
      status: 'GRANTED',
      hostname: 'localhost',
      reason: 'Troubleshoot problem XY',
    });
  });

  it('connects right away with --connect (PIU_CONNECT works the same)', async () => {
    const keyFile = join(scratch, 'member-key');
    await writeFile(keyFile, keys[member]!.privateKey, { mode: 0o600 });
    const seen: string[][] = [];
    const runSsh = async (args: string[]) => {
      seen.push(args);
      // The real ssh, with the test key and no known_hosts; stdin closed, so the shell ends at once.
      const options = [
        '-F',
        '/dev/null',
        '-i',
        keyFile,
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=no',
      ];
      const child = spawn('ssh', [...options, '-o', 'UserKnownHostsFile=/dev/null', ...args], {
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      return new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 255)));
    };
    const connected = await piu(member, ['request-access', '--connect', 'localhost', 'look at logs'], {
      runSsh,
    });
    expect(connected.err).toBe('');
    expect(connected.code).toBe(0);
    expect(seen).toEqual([['-tA', '-p', String(bastion.port), `${member}@localhost`]]);
  });

  it('lets nothing through the forced command but grant-ssh-access and revoke-ssh-access with valid words', async () => {
    const evenKeyFile = join(scratch, 'even-key');
    await writeFile(evenKeyFile, evenPrivateKey, { mode: 0o600 });
    const marker = join(scratch, 'pwned');
    const asEven = (command: string[]) =>
      execFileAsync('ssh', [
        ...['-F', '/dev/null', '-i', evenKeyFile, '-p', String(bastion.port), '-o', 'BatchMode=yes'],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'],
        `${bastion.grantingUser}@127.0.0.1`,
        ...command,
      ]).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          code: error.code ?? 255,
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? '',
        }),
      );
    const attempts: [string[], RegExp][] = [
      [[], /may only run grant-ssh-access or revoke-ssh-access/],
      [[`touch ${marker}`], /refused: the command contains characters outside/],
      [['sh', '-c', 'id'], /refused: sh is not grant-ssh-access or revoke-ssh-access/],
      [[`grant-ssh-access $(touch ${marker}) x`], /refused: the command contains characters outside/],
      [[`grant-ssh-access \`touch ${marker}\``], /refused: the command contains characters outside/],
      [[`grant-ssh-access ${member}; touch ${marker}`], /refused: the command contains characters outside/],
      [[`grant-ssh-access ${member} && touch ${marker}`], /refused: the command contains characters outside/],
      [[`grant-ssh-access ${member} | touch ${marker}`], /refused: the command contains characters outside/],
      [['grant-ssh-access', '--lifetime-minutes=1', 'Root'], /invalid user name/],
      [['grant-ssh-access', '--remote-host=-oProxyCommand=x', member], /invalid remote host/],
      [['grant-ssh-access', '--lifetime-minutes=9999999', member], /invalid lifetime/],
      [
        ['grant-ssh-access', '--lifetime-minutes=481', member],
        /lifetime exceeds this bastion's maximum of 480 minutes/,
      ],
      [['grant-ssh-access', '--shell=x', member], /usage: grant-ssh-access/],
      [['grant-ssh-access', 'root'], /user root exists on this bastion and is not managed by odd/],
      [['grant-ssh-access', bastion.grantingUser], /is not managed by odd/],
      [['revoke-ssh-access', 'root'], /user root is not managed by odd/],
      [['revoke-ssh-access', member, 'extra'], /usage: revoke-ssh-access USER/],
      [['revoke-expired-ssh-access'], /refused: revoke-expired-ssh-access is not grant-ssh-access/],
    ];
    for (const [command, expected] of attempts) {
      const result = await asEven(command);
      expect({ command, code: result.code === 0 ? 0 : 'failed' }).toEqual({ command, code: 'failed' });
      expect(result.stderr).toMatch(expected);
    }
    expect(existsSync(marker)).toBe(false);
    expect(await userExists('Root')).toBe(false);
    // The member's grant is untouched by all of that.
    expect((await bastion.login(member, keys[member]!.privateKey)).code).toBe(0);
  });

  it('fails clearly when the bastion does not pass grants on to a remote host', async () => {
    const failed = await piu(member, ['172.31.146.1', 'reach the instance']);
    expect(failed.code).toBe(1);
    expect(failed.err).toBe(
      `piu: Access request to localhost failed: granting access to host localhost for user ${member} failed: ` +
        'grant-ssh-access: this bastion does not pass grants on to remote hosts (ODD_FORWARD_IDENTITY is not configured)\n',
    );
    const [request] = await service.granting.list({ username: member, limit: 1, offset: 0 });
    expect(request).toMatchObject({ status: 'FAILED', remote_host: '172.31.146.1' });
  });

  it('passes a grant on to a remote host through the bastion when forwarding is configured', async () => {
    await bastion.enableForwarding();
    // The loopback sshd stands in for the instance behind the bastion.
    const forwarded = await piu(member, ['127.0.0.1', 'reach the instance']);
    expect(forwarded.err).toBe('');
    expect(forwarded.out).toContain(
      `ssh -tA -p ${bastion.port} ${member}@localhost ssh -o StrictHostKeyChecking=no ${member}@127.0.0.1\n`,
    );
    const log = await bastion.oddLog();
    expect(log).toMatch(
      new RegExp(`granted user=${member} until=\\d{14}Z keys=1 remote_host=127\\.0\\.0\\.1\n`),
    );
    expect(log).toMatch(new RegExp(`forwarded user=${member} remote_host=127\\.0\\.0\\.1`));
    const [request] = await service.granting.list({ username: member, limit: 1, offset: 0 });
    expect(request).toMatchObject({ status: 'GRANTED', remote_host: '127.0.0.1' });
  });

  it("ends access when even's expiry job runs after the lifetime", async () => {
    clockOffsetMs = 2 * 60 * 60_000;
    const run = await service.expireDue();
    expect(run.revoked).toEqual([`${member}@localhost`]);
    expect(run.failures).toEqual([]);
    const login = await bastion.login(member, keys[member]!.privateKey);
    expect(login.code).toBe(255);
    expect(login.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(await bastion.oddLog()).toMatch(new RegExp(`revoke-ssh-access revoked user=${member}`));
    clockOffsetMs = 0;
  });

  it("ends access with the bastion's own timer, even if even never calls", async () => {
    expect((await piu(member, ['--lifetime', '1', 'one more minute'])).code).toBe(0);
    expect((await bastion.login(member, keys[member]!.privateKey)).code).toBe(0);
    const notYet = await bastion.runOdd('revoke-expired-ssh-access');
    expect(notYet).toMatchObject({ code: 0, stdout: '' });
    const later = String(Math.floor(Date.now() / 1000) + 61);
    const expired = await bastion.runOdd('revoke-expired-ssh-access', [], { ODD_NOW: later });
    expect(expired).toMatchObject({ code: 0, stdout: `Access of ${member} expired and was revoked.\n` });
    expect((await bastion.login(member, keys[member]!.privateKey)).code).toBe(255);
  });

  it('has sshd refuse a key past its expiry-time on its own', async () => {
    // A grant written two hours ago for one hour: the key is still in the file, but expired.
    const twoHoursAgo = String(Math.floor(Date.now() / 1000) - 2 * 3600);
    const granted = await bastion.runOdd('grant-ssh-access', ['--lifetime-minutes=60', member], {
      ODD_NOW: twoHoursAgo,
    });
    expect(granted.code).toBe(0);
    expect(existsSync(join(bastion.stateDir, 'authorized_keys', member))).toBe(true);
    expect((await bastion.login(member, keys[member]!.privateKey)).code).toBe(255);
    expect(await bastion.sshdLog()).toMatch(
      new RegExp(`Refused by key options\\s+Failed publickey for ${member} `),
    );
  });
});
