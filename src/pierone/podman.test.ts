import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { skipWithout } from '../platform/test-support/required-parts.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { call } from './test-support/http.js';
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (error && code !== 0 ? error.message : '') });
    });
  });
}

/** Why podman/buildah cannot run here, or undefined when both answer. */
async function missingPodman(): Promise<string | undefined> {
  for (const tool of ['podman', 'buildah']) {
    const r = await run(tool, ['--version']);
    if (r.code !== 0)
      return `${tool} is missing (scripts/ensure-system-packages.sh installs it): ${r.stderr}`;
  }
  return undefined;
}

const skip = skipWithout('podman', await missingPodman());

/**
 * Debian's podman 4.3 and buildah 1.28 against Pier One, without a daemon: their own storage
 * (vfs, a temp root), plain HTTP on loopback (`--tls-verify=false`), the token as `oauth2`
 * credentials as `pierone login` would store them.
 */
describe.skipIf(skip)('podman and buildah', () => {
  let storage: string;
  let content: string;
  beforeAll(async () => {
    storage = await mkdtemp(join(tmpdir(), 'podman-'));
    content = join(storage, 'payload.bin');
    await writeFile(content, randomBytes(30_000));
  });
  afterAll(async () => {
    // vfs layers are plain directories; buildah's own clean-up first, then the folder.
    await run('buildah', [...store('buildah'), 'rm', '--all']);
    await rm(storage, { recursive: true, force: true });
  });

  const store = (tool: 'podman' | 'buildah') => [
    '--storage-driver',
    'vfs',
    '--root',
    join(storage, 'root'),
    '--runroot',
    join(storage, 'run'),
    ...(tool === 'podman' ? ['--events-backend', 'file', '--cgroup-manager', 'cgroupfs'] : []),
  ];
  const remote = (token: string) => ['--tls-verify=false', '--creds', `oauth2:${token}`];

  /** `buildah from scratch` + a file + `commit`: a one-layer image in local storage. */
  async function build(name: string, file: string): Promise<void> {
    const from = await run('buildah', [...store('buildah'), 'from', 'scratch']);
    expect(from.code, from.stderr).toBe(0);
    const container = from.stdout.trim();
    const copied = await run('buildah', [...store('buildah'), 'copy', container, file, '/app/payload.bin']);
    expect(copied.code, copied.stderr).toBe(0);
    const committed = await run('buildah', [...store('buildah'), 'commit', '--rm', container, name]);
    expect(committed.code, committed.stderr).toBe(0);
  }

  describeEachDatabase('against Pier One', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
    let reg: TestRegistry;
    let admin: string;
    let deleter: string;
    beforeAll(async () => {
      reg = await startTestRegistry(getDatabase());
      admin = await reg.issuer.token({ uid: 'admin' });
      deleter = await reg.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
    }, 60_000);
    afterAll(async () => {
      await reg?.close();
    });

    it('buildah pushes, podman pulls; after an admin deletion the pull fails and the name stays burnt', async () => {
      const local = `localhost/s9/pod-${reg.host.replace(/\W/g, '-')}:1.0`;
      await build(local, content);
      const ref = `${reg.host}/stups/pod:1.0`;
      const pushed = await run('buildah', [
        ...store('buildah'),
        'push',
        ...remote(reg.tokens.alice),
        local,
        `docker://${ref}`,
      ]);
      expect(pushed.code, pushed.stderr).toBe(0);

      const pulled = await run('podman', [...store('podman'), 'pull', ...remote(reg.tokens.alice), ref]);
      expect(pulled.code, pulled.stderr).toBe(0);
      const inspected = await run('podman', [
        ...store('podman'),
        'image',
        'inspect',
        '--format',
        '{{len .RootFS.Layers}}',
        ref,
      ]);
      expect(inspected.stdout.trim()).toBe('1');
      // podman pushes too (here back under a second tag).
      const repushed = await run('podman', [
        ...store('podman'),
        'push',
        ...remote(reg.tokens.alice),
        ref,
        `docker://${reg.host}/stups/pod:1.1`,
      ]);
      expect(repushed.code, repushed.stderr).toBe(0);

      const deleted = await call(reg, 'DELETE', '/v2/stups/pod/manifests/1.0', {
        token: deleter,
        headers: { 'x-deletion-reason': 'podman test, TICKET-9' },
      });
      expect(deleted.status, deleted.text).toBe(202);
      await run('podman', [...store('podman'), 'rmi', '--force', ref]);
      const gone = await run('podman', [...store('podman'), 'pull', ...remote(reg.tokens.alice), ref]);
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toMatch(/manifest unknown/i);
      const reused = await run('buildah', [
        ...store('buildah'),
        'push',
        '--retry',
        '0',
        ...remote(reg.tokens.alice),
        local,
        `docker://${ref}`,
      ]);
      expect(reused.code).not.toBe(0);
      expect(reused.stderr).toMatch(
        /tag invalid: tag 1\.0 of stups\/pod was deleted by admin on \S+ because podman test, TICKET-9; its name is never reused/,
      );
      // The other tag of the same image is untouched.
      const other = await run('podman', [
        ...store('podman'),
        'pull',
        ...remote(reg.tokens.alice),
        `${reg.host}/stups/pod:1.1`,
      ]);
      expect(other.code, other.stderr).toBe(0);
    }, 180_000);

    it('a push over quota fails in buildah with the numbers', async () => {
      expect(
        (
          await call(reg, 'PUT', '/teams/other/quota', {
            token: admin,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ bytes: 1000 }),
          })
        ).status,
      ).toBe(200);
      const local = `localhost/s9/quota-${reg.host.replace(/\W/g, '-')}:1.0`;
      await build(local, content);
      const refused = await run('buildah', [
        ...store('buildah'),
        'push',
        '--retry',
        '0',
        ...remote(reg.tokens.bob),
        local,
        `docker://${reg.host}/other/quota:1.0`,
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(
        /denied: quota of team other exceeded: \d+ bytes used of 1000, this push needs \d+ more/,
      );
    }, 180_000);
  });
});
