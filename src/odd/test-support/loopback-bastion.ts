import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, watch } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { requiredParts } from '../../platform/test-support/required-parts.js';
import { freePorts } from '../../stups/free-ports.js';
import { oddSourceDir } from '../index.js';

const run = promisify(execFile);

/**
 * Why a real bastion cannot run here, or undefined when it can (root, sshd, sudo, useradd).
 * Throws instead when `STUPS_REQUIRE` names sshd, so CI cannot skip these tests.
 */
export function bastionUnavailableReason(): string | undefined {
  const reason = missingBastionPart();
  if (reason !== undefined && requiredParts().has('sshd')) {
    throw new Error(`sshd is required (STUPS_REQUIRE) but a real bastion cannot run: ${reason}`);
  }
  return reason;
}

function missingBastionPart(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root (useradd and sshd need it)';
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/sudo', '/usr/sbin/useradd', '/usr/bin/ssh']) {
    if (!existsSync(tool)) return `${tool} is missing: run bash scripts/ensure-system-packages.sh`;
  }
  return undefined;
}

export interface LoopbackBastion {
  /** Prefix of every user and group this bastion created (`piu-t-<hex>`). */
  tag: string;
  address: '127.0.0.1';
  port: number;
  grantingUser: string;
  /** The host key line (`ssh-ed25519 AAAA…`) for even's `knownHostKeys`. */
  hostKey: string;
  prefix: string;
  stateDir: string;
  /** sshd's log (LogLevel VERBOSE). */
  sshdLog(): Promise<string>;
  /** sshd's log, once it holds `count` matches of `pattern` (for what sshd does after answering). */
  untilSshdLogged(pattern: RegExp, count: number): Promise<string>;
  /** odd's own audit trail on the bastion. */
  oddLog(): Promise<string>;
  /** Runs an installed odd program as root, as the bastion's timer would. */
  runOdd(
    program: string,
    args?: string[],
    env?: Record<string, string>,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A real `ssh … true` login with a private key; exit code 0 means the login worked. */
  login(user: string, privateKey: string): Promise<{ code: number; stderr: string }>;
  /**
   * Lets the bastion pass grants on to remote hosts, with the loopback sshd itself standing in
   * for the instance: the bastion's own key may run the forced command like even's.
   */
  enableForwarding(): Promise<void>;
  /** Stops sshd, deletes every user and group with the tag, the sudoers rule and the files. */
  stop(): Promise<void>;
}

/**
 * Resolves with the log once `file` holds `count` matches of `pattern`. The log is read again
 * whenever the kernel reports a change in its directory (inotify), so this waits exactly as
 * long as sshd takes to write the line, without a timer; it fails as soon as sshd exits.
 */
function untilLogged(file: string, pattern: RegExp, count: number, sshd: ChildProcess): Promise<string> {
  const global = new RegExp(
    pattern.source,
    pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
  );
  return new Promise((resolve, reject) => {
    let settled = false;
    let reading = false;
    let changedWhileReading = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      watcher.close();
      sshd.off('exit', onExit);
      outcome();
    };
    const check = async (): Promise<void> => {
      if (reading) {
        changedWhileReading = true;
        return;
      }
      reading = true;
      try {
        do {
          changedWhileReading = false;
          const text = await readFile(file, 'utf8').catch(() => '');
          if ((text.match(global)?.length ?? 0) >= count) return finish(() => resolve(text));
        } while (changedWhileReading && !settled);
      } finally {
        reading = false;
      }
    };
    const onExit = (code: number | null) => {
      void readFile(file, 'utf8')
        .catch(() => '')
        .then((text) =>
          finish(() => reject(new Error(`sshd exited with ${code} before logging ${pattern}: ${text}`))),
        );
    };
    // The directory, not the file: sshd creates the file when it starts.
    const watcher = watch(dirname(file), () => void check());
    sshd.once('exit', onExit);
    if (sshd.exitCode !== null) onExit(sshd.exitCode);
    void check();
  });
}

async function runCode(
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 255,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

/**
 * A real bastion on loopback: odd installed with its own `install.sh` (programs, config,
 * granting user with even's key as a forced command, sudoers rule, sshd snippet), and an
 * `sshd` on a free port that includes the snippet as Debian's sshd_config.d would.
 */
export async function startLoopbackBastion(options: {
  evenUrl: string;
  evenPublicKey: string;
  maxLifetimeMinutes?: number;
}): Promise<LoopbackBastion> {
  const tag = `piu-t-${randomBytes(3).toString('hex')}`;
  // /run is root-owned and not world-writable, as sshd's StrictModes wants for key files.
  const root = await mkdtemp(join(existsSync('/run') ? '/run' : tmpdir(), `${tag}-`));
  await chmod(root, 0o755);
  const prefix = join(root, 'odd');
  const stateDir = join(root, 'state');
  const grantingUser = `${tag}-gs`;
  const sudoersFile = `/etc/sudoers.d/${tag}`;
  let sshd: ChildProcess | undefined;

  const stop = async () => {
    if (sshd && sshd.exitCode === null) {
      const exited = new Promise((r) => sshd!.once('exit', r));
      sshd.kill('SIGTERM');
      await exited;
    }
    const passwd = await readFile('/etc/passwd', 'utf8');
    const users = passwd
      .split('\n')
      .map((line) => line.split(':')[0]!)
      .filter((name) => name.startsWith(`${tag}-`));
    for (const user of users) {
      await runCode('/usr/bin/pkill', ['-KILL', '-u', user], {});
      await runCode('/usr/sbin/userdel', ['-r', user], {});
    }
    await runCode('/usr/sbin/groupdel', [tag], {});
    await rm(sudoersFile, { force: true });
    await rm(root, { recursive: true, force: true });
  };

  try {
    const installed = await runCode(
      '/bin/sh',
      [
        join(oddSourceDir(), 'install.sh'),
        '--prefix',
        prefix,
        '--state-dir',
        stateDir,
        '--even-url',
        options.evenUrl,
        '--even-key',
        options.evenPublicKey,
        '--group',
        tag,
        '--granting-user',
        grantingUser,
        '--sudoers-file',
        sudoersFile,
        '--timer',
        'none',
        '--max-lifetime-minutes',
        String(options.maxLifetimeMinutes ?? 525600),
      ],
      { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    );
    if (installed.code !== 0) throw new Error(`odd install.sh failed: ${installed.stderr}`);

    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', tag, '-f', join(root, 'host_key')]);
    const hostKey = (await readFile(join(root, 'host_key.pub'), 'utf8')).trim();
    const [port] = await freePorts(1);
    const log = join(root, 'sshd.log');
    const config = join(root, 'sshd_config');
    await writeFile(
      config,
      [
        `Include ${prefix}/etc/sshd_config.snippet`,
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(root, 'host_key')}`,
        `PidFile ${join(root, 'sshd.pid')}`,
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        `AllowGroups ${tag} ${grantingUser}`,
        'LogLevel VERBOSE',
        'MaxStartups 200',
        'PrintMotd no',
        '',
      ].join('\n'),
    );
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    sshd = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', log], { stdio: 'ignore' });
    // sshd logs this line right after listen() succeeded: from then on connections are accepted.
    await untilLogged(log, new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}\\.`), 1, sshd);
    const running = sshd;

    const keyDir = join(root, 'client-keys');
    await mkdir(keyDir, { mode: 0o700 });
    let keyCount = 0;
    return {
      tag,
      address: '127.0.0.1',
      port: port!,
      grantingUser,
      hostKey,
      prefix,
      stateDir,
      sshdLog: () => readFile(log, 'utf8').catch(() => ''),
      untilSshdLogged: (pattern, count) => untilLogged(log, pattern, count, running),
      oddLog: () => readFile(join(stateDir, 'audit.log'), 'utf8').catch(() => ''),
      runOdd: (program, args = [], env = {}) =>
        runCode(join(prefix, 'bin', program), args, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }),
      async login(user, privateKey) {
        const file = join(keyDir, `key-${keyCount++}`);
        await writeFile(file, privateKey, { mode: 0o600 });
        const result = await runCode(
          '/usr/bin/ssh',
          [
            '-F',
            '/dev/null',
            '-i',
            file,
            '-p',
            String(port),
            '-o',
            'BatchMode=yes',
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'StrictHostKeyChecking=no',
            '-o',
            'UserKnownHostsFile=/dev/null',
            '-o',
            'ConnectTimeout=5',
            '-o',
            'LogLevel=ERROR',
            `${user}@127.0.0.1`,
            'true',
          ],
          { PATH: process.env.PATH },
        );
        return { code: result.code, stderr: result.stderr };
      },
      async enableForwarding() {
        const key = join(root, 'forward_key');
        await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${tag}-forward`, '-f', key]);
        const publicKey = (await readFile(`${key}.pub`, 'utf8')).trim();
        const home = (await run('getent', ['passwd', grantingUser])).stdout.trim().split(':')[5]!;
        await appendFile(
          join(home, '.ssh', 'authorized_keys'),
          `restrict,command="${prefix}/bin/odd-forced-command" ${publicKey}\n`,
        );
        await appendFile(
          join(prefix, 'etc', 'odd.conf'),
          `ODD_FORWARD_IDENTITY=${key}\nODD_FORWARD_USER=${grantingUser}\nODD_FORWARD_PORT=${port}\n`,
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
