import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PORT_BLOCK_SIZE } from '../../src/platform/service-context.js';
import { freePortBlock } from '../../src/stups/free-ports.js';
import { type RunningStups, startStups } from './support/start-stups.js';

/*
 * `stups up` prints the demo organisation's passwords (they are public in config/demo-org.yaml)
 * and never those of an organisation file of one's own: they are real credentials.
 */

const CUSTOM_ORG = `admins: [boss]
teams:
  - id: ops
    name: Operations
    members: [boss]
users:
  - uid: boss
    name: The Boss
    email: boss@example.org
    password: custom-org-real-password
`;

let stups: RunningStups | undefined;
const dirs: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function stopStups(): Promise<void> {
  if (!stups) return;
  stups.child.kill('SIGTERM');
  await stups.exited;
  stups = undefined;
}

afterEach(async () => {
  await stopStups();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Starts `stups up` on a fresh data directory and returns what it printed once ready. */
async function upOutput(extraArgs: string[]): Promise<string> {
  const dataDir = await tempDir('stups-org-data-');
  const basePort = await freePortBlock(PORT_BLOCK_SIZE);
  stups = await startStups(['up', '--data-dir', dataDir, '--base-port', String(basePort), ...extraArgs], {
    DATABASE_URL: '',
  });
  return stups.output();
}

describe('stups up and organisation passwords', () => {
  it('never prints the passwords of a custom --org file', async () => {
    const orgFile = join(await tempDir('stups-org-file-'), 'org.yaml');
    await writeFile(orgFile, CUSTOM_ORG);
    const output = await upOutput(['--org', orgFile]);
    expect(output).toContain('stups is running');
    expect(output).not.toContain('custom-org-real-password');
    expect(output).not.toContain('Demo logins');
  }, 120_000);

  it('prints the logins of the demo organisation', async () => {
    const output = await upOutput([]);
    expect(output).toContain('Demo logins (');
    expect(output).toContain('  jdoe / jdoe-demo   (teams: demo)');
  }, 120_000);
});
