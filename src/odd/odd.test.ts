import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ODD_PROGRAMS, oddSourceDir } from './index.js';

const run = promisify(execFile);

/**
 * The odd programs' argument checks, run as whoever runs the tests: every check happens before
 * root is needed, so these tests never change the system. The real grants are in piu-e2e.test.ts.
 */
describe('odd programs refuse bad words before doing anything', () => {
  let dir: string;
  let marker: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'odd-test-'));
    marker = join(dir, 'pwned');
    await writeFile(
      join(dir, 'odd.conf'),
      `# test\nEVEN_URL=http://127.0.0.1:9\nODD_STATE_DIR=${dir}/state\nODD_MAX_LIFETIME_MINUTES=480\n`,
    );
    env = { PATH: '/usr/bin:/bin', ODD_CONFIG: join(dir, 'odd.conf') };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function odd(program: string, args: string[], extra: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await run(join(oddSourceDir(), 'bin', program), args, {
        env: { ...env, ...extra },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('ships every program executable', () => {
    for (const program of ODD_PROGRAMS) expect(existsSync(join(oddSourceDir(), 'bin', program))).toBe(true);
  });

  it('grant-ssh-access checks user, lifetime and remote host', async () => {
    const cases: [string[], string][] = [
      [[], 'grant-ssh-access: usage: grant-ssh-access [--lifetime-minutes=N] [--remote-host=HOST] USER\n'],
      [
        ['a', 'b'],
        'grant-ssh-access: usage: grant-ssh-access [--lifetime-minutes=N] [--remote-host=HOST] USER\n',
      ],
      [
        ['--exec=x', 'jdoe'],
        'grant-ssh-access: usage: grant-ssh-access [--lifetime-minutes=N] [--remote-host=HOST] USER\n',
      ],
      [[`$(touch ${marker})`], 'grant-ssh-access: invalid user name (expected ^[a-z][a-z0-9-]{0,31}$)\n'],
      [['jdoe;id'], 'grant-ssh-access: invalid user name (expected ^[a-z][a-z0-9-]{0,31}$)\n'],
      [['Jdoe'], 'grant-ssh-access: invalid user name (expected ^[a-z][a-z0-9-]{0,31}$)\n'],
      [['a'.repeat(33)], 'grant-ssh-access: invalid user name (expected ^[a-z][a-z0-9-]{0,31}$)\n'],
      [
        ['--lifetime-minutes=0', 'jdoe'],
        'grant-ssh-access: invalid lifetime (expected whole minutes 1..525600)\n',
      ],
      [
        ['--lifetime-minutes=060', 'jdoe'],
        'grant-ssh-access: invalid lifetime (expected whole minutes 1..525600)\n',
      ],
      [
        ['--lifetime-minutes=525601', 'jdoe'],
        'grant-ssh-access: invalid lifetime (expected whole minutes 1..525600)\n',
      ],
      [
        ['--lifetime-minutes=1 ', 'jdoe'],
        'grant-ssh-access: invalid lifetime (expected whole minutes 1..525600)\n',
      ],
      [
        ['--remote-host=a;b', 'jdoe'],
        'grant-ssh-access: invalid remote host (expected ^[a-z0-9.-]{1,255}$)\n',
      ],
      [
        ['--remote-host=-oProxyCommand=sh', 'jdoe'],
        'grant-ssh-access: invalid remote host (expected ^[a-z0-9.-]{1,255}$)\n',
      ],
      [
        ['--lifetime-minutes=481', 'jdoe'],
        "grant-ssh-access: lifetime exceeds this bastion's maximum of 480 minutes\n",
      ],
      [
        ['--remote-host=10.0.0.1', 'jdoe'],
        'grant-ssh-access: this bastion does not pass grants on to remote hosts (ODD_FORWARD_IDENTITY is not configured)\n',
      ],
    ];
    for (const [args, stderr] of cases) {
      const result = await odd('grant-ssh-access', args);
      expect({ args, stderr: result.stderr }).toEqual({ args, stderr });
      expect(result.code).not.toBe(0);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('the forced command passes only two programs and splits without a shell', async () => {
    const forced = (command: string) => odd('odd-forced-command', [], { SSH_ORIGINAL_COMMAND: command });
    const refusals: [string, string][] = [
      ['', 'odd-forced-command: this key may only run grant-ssh-access or revoke-ssh-access\n'],
      [
        `grant-ssh-access $(touch ${marker})`,
        'odd-forced-command: refused: the command contains characters outside [A-Za-z0-9 =._-]\n',
      ],
      [
        `grant-ssh-access jdoe;touch ${marker}`,
        'odd-forced-command: refused: the command contains characters outside [A-Za-z0-9 =._-]\n',
      ],
      [
        'grant-ssh-access jdoe\ntouch x',
        'odd-forced-command: refused: the command contains characters outside [A-Za-z0-9 =._-]\n',
      ],
      [
        'grant-ssh-access *',
        'odd-forced-command: refused: the command contains characters outside [A-Za-z0-9 =._-]\n',
      ],
      ['rm -rf x', 'odd-forced-command: refused: rm is not grant-ssh-access or revoke-ssh-access\n'],
      [
        'revoke-expired-ssh-access',
        'odd-forced-command: refused: revoke-expired-ssh-access is not grant-ssh-access or revoke-ssh-access\n',
      ],
      [`grant-ssh-access ${'a'.repeat(600)}`, 'odd-forced-command: refused: the command is too long\n'],
    ];
    for (const [command, stderr] of refusals) {
      const result = await forced(command);
      expect({ command, stderr: result.stderr, code: result.code }).toEqual({ command, stderr, code: 2 });
    }
    // Valid words reach the program, which checks them again.
    const passed = await forced('grant-ssh-access --lifetime-minutes=0 jdoe');
    expect(passed.stderr).toBe('grant-ssh-access: invalid lifetime (expected whole minutes 1..525600)\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('revoke-ssh-access and revoke-expired-ssh-access check their words too', async () => {
    expect((await odd('revoke-ssh-access', [])).stderr).toBe(
      'revoke-ssh-access: usage: revoke-ssh-access USER\n',
    );
    expect((await odd('revoke-ssh-access', ['-r'])).stderr).toBe(
      'revoke-ssh-access: usage: revoke-ssh-access USER\n',
    );
    expect((await odd('revoke-ssh-access', ['x y'])).stderr).toBe(
      'revoke-ssh-access: invalid user name (expected ^[a-z][a-z0-9-]{0,31}$)\n',
    );
    expect((await odd('revoke-expired-ssh-access', ['now'])).stderr).toBe(
      'revoke-expired-ssh-access: usage: revoke-expired-ssh-access\n',
    );
  });

  it('reads its configuration without evaluating it', async () => {
    const evil = join(dir, 'evil.conf');
    await writeFile(evil, `EVEN_URL=http://x/$(touch ${marker})\n`);
    expect((await odd('grant-ssh-access', ['jdoe'], { ODD_CONFIG: evil })).stderr).toBe(
      `grant-ssh-access: ${evil}: EVEN_URL has unexpected characters\n`,
    );
    await writeFile(evil, `EVEN_URL=http://x\nPATH=/tmp\n`);
    expect((await odd('grant-ssh-access', ['jdoe'], { ODD_CONFIG: evil })).stderr).toBe(
      `grant-ssh-access: ${evil}: unknown key PATH\n`,
    );
    expect(existsSync(marker)).toBe(false);
  });
});
