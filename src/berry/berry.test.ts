import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { berryProgram, parseSignalTarget } from './cli/main.js';
import {
  ENTRY,
  clientJson,
  eventually,
  putBucketFile,
  startBerryProcess,
  userJson,
} from './test-support/berry-fixtures.js';

const APP = 'myapp';
const BUCKET = 'mint-example-bucket';

let root: string;
let buckets: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berry-'));
  buckets = join(root, 'buckets');
  dir = join(root, 'credentials');
  await putBucketFile(buckets, BUCKET, APP, 'user', userJson('stups_myapp', 'password-1'));
  await putBucketFile(buckets, BUCKET, APP, 'client', clientJson('myapp-client', 'secret-1'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** berry in-process, as `berry ARGS` with the given environment. */
async function berry(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = await captureIo({ env });
  const code = await runCli(berryProgram({ io }), args, io);
  await io.cleanup();
  return { code, out: io.out(), err: io.err() };
}

const once = (extra: string[] = []) =>
  berry([
    '--once',
    '-f',
    join(root, 'none.yaml'),
    '-a',
    APP,
    '-m',
    BUCKET,
    '--buckets-dir',
    buckets,
    ...extra,
    dir,
  ]);

/** `once()` as a separate process of the unprivileged user `nobody` (uid/gid 65534). */
async function onceAsNobody() {
  await chmod(root, 0o777);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ENTRY,
      '--once',
      '-f',
      join(root, 'none.yaml'),
      '-a',
      APP,
      '-m',
      BUCKET,
      '--buckets-dir',
      buckets,
      dir,
    ],
    {
      env: { PATH: process.env.PATH, HOME: root },
      uid: 65534,
      gid: 65534,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, err };
}

const local = async (name: string) => readFile(join(dir, `${name}.json`), 'utf8');

describe('berry --once on folder buckets', () => {
  it('downloads user.json and client.json as mint wrote them, readable by the owner only', async () => {
    const result = await once();
    expect(result.code, result.err).toBe(0);
    expect(await local('user')).toBe(userJson('stups_myapp', 'password-1'));
    expect(await local('client')).toBe(clientJson('myapp-client', 'secret-1'));
    for (const name of ['user', 'client']) {
      expect((await stat(join(dir, `${name}.json`))).mode & 0o777).toBe(0o600);
    }
    expect(result.err).toContain(`INFO: Rotated user credentials for ${APP}`);
    expect(result.err).not.toContain('password-1');
  });

  it('leaves unchanged files alone: same inode, same mtime', async () => {
    expect((await once()).code).toBe(0);
    const before = await stat(join(dir, 'user.json'));
    // Same content with other spacing and key order is the same credentials.
    await putBucketFile(
      buckets,
      BUCKET,
      APP,
      'user',
      '{ "application_password": "password-1",\n  "application_username": "stups_myapp" }',
    );
    const again = await once();
    expect(again.code).toBe(0);
    expect(again.err).not.toContain('Rotated');
    const after = await stat(join(dir, 'user.json'));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('replaces a rotated file atomically (new inode) and leaves no temp file', async () => {
    expect((await once()).code).toBe(0);
    const before = await stat(join(dir, 'user.json'));
    await putBucketFile(buckets, BUCKET, APP, 'user', userJson('stups_myapp', 'password-2'));
    const result = await once();
    expect(result.code).toBe(0);
    expect(result.err).toContain('Rotated user credentials');
    expect(result.err).not.toContain('Rotated client credentials');
    expect(await local('user')).toBe(userJson('stups_myapp', 'password-2'));
    expect((await stat(join(dir, 'user.json'))).ino).not.toBe(before.ino);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual(['client.json', 'user.json']);
  });

  it('keeps the last good files when a file is missing or damaged, and exits 1 with one line', async () => {
    expect((await once()).code).toBe(0);
    await rm(join(buckets, BUCKET, APP, 'client.json'));
    const missing = await once();
    expect(missing.code).toBe(1);
    expect(missing.err.trim().split('\n')).toEqual([
      `berry: Credentials file "${APP}/client.json" not found in mint bucket folder "${join(buckets, BUCKET)}". Mint either did not sync them yet or the mint configuration is wrong.`,
    ]);
    expect(await local('client')).toBe(clientJson('myapp-client', 'secret-1'));

    await putBucketFile(buckets, BUCKET, APP, 'user', '{"application_username": "stups_myapp"');
    await putBucketFile(buckets, BUCKET, APP, 'client', JSON.stringify({ client_id: 'myapp-client' }));
    const damaged = await once();
    expect(damaged.code).toBe(1);
    expect(damaged.err).toContain(`"${APP}/user.json" in mint bucket folder`);
    expect(damaged.err).toContain('is not JSON');
    expect(damaged.err).toContain('client_secret');
    expect(await local('user')).toBe(userJson('stups_myapp', 'password-1'));
    expect(await local('client')).toBe(clientJson('myapp-client', 'secret-1'));
  });

  it('creates no credentials folder when the download fails', async () => {
    const missingApp = await berry([
      '--once',
      '-f',
      join(root, 'none.yaml'),
      '-a',
      'not-in-the-bucket',
      '-m',
      BUCKET,
      '--buckets-dir',
      buckets,
      dir,
    ]);
    expect(missingApp.code).toBe(1);
    expect(missingApp.err).toMatch(/not-in-the-bucket\/user\.json" not found/);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });

    await putBucketFile(buckets, BUCKET, APP, 'user', 'not json');
    await putBucketFile(buckets, BUCKET, APP, 'client', 'not json either');
    expect((await once()).code).toBe(1);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says so when the bucket folder is not readable', async () => {
    await chmod(join(buckets, BUCKET, APP), 0o000);
    try {
      // root reads any folder, so as root berry runs as its own process under `nobody`.
      const result = process.getuid?.() === 0 ? await onceAsNobody() : await once();
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/^berry: Access denied while trying to read "myapp\/user.json"/m);
    } finally {
      await chmod(join(buckets, BUCKET, APP), 0o755);
    }
  });

  it('accepts a public client (null secret)', async () => {
    await putBucketFile(buckets, BUCKET, APP, 'client', clientJson('myapp-client', null));
    expect((await once()).code).toBe(0);
    expect(JSON.parse(await local('client'))).toEqual({ client_id: 'myapp-client', client_secret: null });
  });
});

describe('berry configuration', () => {
  it('reads application_id and mint_bucket from the Taupage YAML; flags win', async () => {
    const yaml = join(root, 'taupage.yaml');
    await writeFile(
      yaml,
      `application_id: ${APP}\napplication_version: "1.0"\nmint_bucket: ${BUCKET}\nregion: eu-central-1\nruntime: Docker\n`,
    );
    const result = await berry(['--once', '-f', yaml, '--buckets-dir', buckets, dir]);
    expect(result.code, result.err).toBe(0);
    expect(await local('user')).toBe(userJson('stups_myapp', 'password-1'));

    const overridden = await berry([
      '--once',
      '-f',
      yaml,
      '-m',
      'other-bucket',
      '--buckets-dir',
      buckets,
      dir,
    ]);
    expect(overridden.code).toBe(1);
    expect(overridden.err).toContain(`mint bucket folder "${join(buckets, 'other-bucket')}"`);
  });

  it('takes the buckets folder from BERRY_BUCKETS_DIR', async () => {
    const result = await berry(['--once', '-f', join(root, 'none.yaml'), '-a', APP, '-m', BUCKET, dir], {
      BERRY_BUCKETS_DIR: buckets,
    });
    expect(result.code, result.err).toBe(0);
  });

  it('ends with the original usage errors when application or bucket are missing', async () => {
    const noApp = await berry(['--once', '-f', join(root, 'none.yaml'), dir]);
    expect(noApp.code).toBe(1);
    expect(noApp.err).toContain(
      `WARNING: Could not load configuration from ${join(root, 'none.yaml')}: ENOENT`,
    );
    expect(noApp.err).toContain(
      'berry: Usage Error: Application ID missing, please set "application_id" in your configuration YAML',
    );
    const noBucket = await berry(['--once', '-f', join(root, 'none.yaml'), '-a', APP, dir]);
    expect(noBucket.code).toBe(1);
    expect(noBucket.err).toContain('berry: Usage Error: Mint Bucket is not configured');
    const badInterval = await berry(['-i', '0', '-a', APP, '-m', BUCKET, dir]);
    expect(badInterval.code).toBe(2);
    expect(badInterval.err).toContain('a whole number of seconds');
  });

  it('parses --signal targets and refuses unknown signals', () => {
    expect(parseSignalTarget('1234:HUP')).toEqual({ pid: 1234, signal: 'SIGHUP' });
    expect(parseSignalTarget('99:sigusr1')).toEqual({ pid: 99, signal: 'SIGUSR1' });
    expect(() => parseSignalTarget('1234:NOPE')).toThrow(/PID:SIGNAL/);
    expect(() => parseSignalTarget('HUP')).toThrow(/PID:SIGNAL/);
  });
});

describe('berry beyond STUPS: --exec, --signal, status file', () => {
  it('runs --exec only when credentials changed, with the changed file names', async () => {
    const marker = join(root, 'exec.log');
    const exec = `echo "$BERRY_CHANGED_FILES $CREDENTIALS_DIR" >> ${marker}`;
    expect((await once(['--exec', exec])).code).toBe(0);
    expect((await once(['--exec', exec])).code).toBe(0);
    await putBucketFile(buckets, BUCKET, APP, 'client', clientJson('myapp-client', 'secret-2'));
    expect((await once(['--exec', exec])).code).toBe(0);
    expect((await readFile(marker, 'utf8')).trim().split('\n')).toEqual([
      `user,client ${dir}`,
      `client ${dir}`,
    ]);
  });

  it('a failing --exec is an error of the run (exit 1), the new files stay', async () => {
    const result = await once(['--exec', 'exit 3']);
    expect(result.code).toBe(1);
    expect(result.err.trim().split('\n').at(-1)).toBe('berry: --exec command exited with 3');
    expect(result.err.match(/^berry:/gm)).toHaveLength(1);
    expect(await local('user')).toBe(userJson('stups_myapp', 'password-1'));
  });

  it('sends --signal to the application when credentials changed', async () => {
    // An "application" that reloads on SIGHUP: it prints a line per signal.
    const app = spawn(
      process.execPath,
      [
        '-e',
        "process.on('SIGHUP', () => console.log('reload')); console.log('ready'); setInterval(() => {}, 1000);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    app.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await eventually(async () => (out.includes('ready') ? true : undefined), 'the application to start');
      expect((await once(['--signal', `${app.pid}:HUP`])).code).toBe(0);
      await eventually(async () => (out.includes('reload') ? true : undefined), 'SIGHUP to arrive');
      expect((await once(['--signal', `${app.pid}:HUP`])).code).toBe(0);
      await putBucketFile(buckets, BUCKET, APP, 'user', userJson('stups_myapp', 'password-2'));
      expect((await once(['--signal', `${app.pid}:HUP`])).code).toBe(0);
      await eventually(
        async () => (out.split('reload').length - 1 === 2 ? true : undefined),
        'a second SIGHUP',
      );
    } finally {
      app.kill('SIGKILL');
    }
    expect(out.split('reload').length - 1).toBe(2);
  });

  it('writes a status file with last success and last error', async () => {
    const statusFile = join(root, 'status.json');
    expect((await once(['--status-file', statusFile])).code).toBe(0);
    const first = JSON.parse(await readFile(statusFile, 'utf8'));
    expect(first).toMatchObject({
      application_id: APP,
      ok: true,
      last_error: null,
      consecutive_failures: 0,
      source: `mint bucket folder "${join(buckets, BUCKET)}"`,
    });
    expect(first.last_success).toBe(first.last_attempt);
    expect(first.last_change).toBe(first.last_attempt);
    expect((await stat(statusFile)).mode & 0o777).toBe(0o600);

    await rm(join(buckets, BUCKET, APP, 'user.json'));
    expect((await once(['--status-file', statusFile])).code).toBe(1);
    const second = JSON.parse(await readFile(statusFile, 'utf8'));
    expect(second).toMatchObject({ ok: false, consecutive_failures: 1, last_success: first.last_success });
    expect(second.last_error.message).toContain('not found');
    expect(second.last_change).toBe(first.last_change);
  });
});

describe('berry as a daemon', () => {
  it('follows rotations every interval and stops cleanly on SIGTERM', async () => {
    const statusFile = join(root, 'status.json');
    await mkdir(dir, { recursive: true });
    const berryProcess = startBerryProcess([
      '-f',
      join(root, 'none.yaml'),
      '-a',
      APP,
      '-m',
      BUCKET,
      '--buckets-dir',
      buckets,
      '-i',
      '1',
      '--status-file',
      statusFile,
      dir,
    ]);
    try {
      await eventually(
        async () => ((await local('user').catch(() => '')).includes('password-1') ? true : undefined),
        'the first download',
      );
      await putBucketFile(buckets, BUCKET, APP, 'user', userJson('stups_myapp', 'password-2'));
      await eventually(
        async () => ((await local('user').catch(() => '')).includes('password-2') ? true : undefined),
        'the rotated password',
      );
      // A missing file is logged, the loop goes on and the last good file stays.
      await rm(join(buckets, BUCKET, APP, 'client.json'));
      await eventually(
        async () => (berryProcess.output().includes('ERROR: Credentials file') ? true : undefined),
        'the error to be logged',
      );
      expect(await local('client')).toBe(clientJson('myapp-client', 'secret-1'));
    } finally {
      berryProcess.child.kill('SIGTERM');
    }
    expect(await berryProcess.exited).toBe(0);
    expect(berryProcess.output()).toContain('INFO: Stopped');
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual(['client.json', 'user.json']);
  });
});
