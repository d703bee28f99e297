import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { stupsProgram } from './main.js';

let io: CapturedIo | undefined;
afterEach(async () => {
  await io?.cleanup();
  io = undefined;
});

async function stups(args: string[], env: NodeJS.ProcessEnv = {}) {
  io = await captureIo({ env });
  const code = await runCli(stupsProgram(io), args, io);
  return { code, out: io.out(), err: io.err(), home: io.home };
}

describe('stups with an invalid configuration', () => {
  it('lists every problem as path: message, exits 2 and starts nothing', async () => {
    io = await captureIo();
    const file = join(io.home, 'stups.yaml');
    await writeFile(file, 'platform: { basePort: abc }\npierone: { maxManifestBytes: -1, nope: true }\n');
    const dataDir = join(io.home, 'data');
    const code = await runCli(stupsProgram(io), ['up', '--config', file, '--data-dir', dataDir], io);
    expect(code).toBe(2);
    expect(io.err()).toBe(
      [
        'stups: invalid configuration:',
        '  platform.basePort: Invalid input: expected number, received NaN',
        '  pierone.maxManifestBytes: Too small: expected number to be >0',
        '  pierone.nope: unknown setting',
        '',
      ].join('\n'),
    );
    expect(io.out()).toBe('');
    // Nothing started: not even the data directory (database, lock) was created.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses an unknown STUPS_<SECTION>__<SETTING> the same way', async () => {
    const result = await stups(['serve', 'kio'], { STUPS_KIO__SERCH__DEFAULT_LIMIT: '5' });
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      'stups: invalid configuration:\n  STUPS_KIO__SERCH__DEFAULT_LIMIT: kio has no setting serch__default_limit\n',
    );
  });
});

describe('stups config print', () => {
  it('shows the effective settings with secrets redacted', async () => {
    const result = await stups(['config', 'print', '--base-port', '9100'], {
      DATABASE_URL: 'postgres://stups:hunter2@db/stups',
      STUPS_KEY_ENCRYPTION_SECRET: 'a-very-secret-installation-key',
      STUPS_TOKEN_SERVICE__ACCESS_TOKEN_LIFETIME_SECONDS: '600',
    });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('  databaseUrl: <redacted>\n');
    expect(result.out).toContain('  keyEncryptionSecret: <redacted>\n');
    expect(result.out).toContain('  basePort: 9100\n');
    expect(result.out).toContain('token-service:\n  accessTokenLifetimeSeconds: 600\n');
    expect(result.out).not.toContain('hunter2');
    expect(result.out).not.toContain('a-very-secret-installation-key');
  });
});
