import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A key pair made by the real `ssh-keygen`, with the fingerprint it reports. */
export async function sshKeygen(
  type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519',
  options: { bits?: number; comment?: string } = {},
): Promise<{ publicKey: string; privateKey: string; fingerprint: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'stups-key-'));
  try {
    const file = join(dir, 'key');
    const args = ['-q', '-t', type, '-N', '', '-C', options.comment ?? 'test', '-f', file];
    if (options.bits) args.push('-b', String(options.bits));
    await run('ssh-keygen', args);
    const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`]);
    return {
      publicKey: (await readFile(`${file}.pub`, 'utf8')).trim(),
      privateKey: await readFile(file, 'utf8'),
      fingerprint: stdout.split(' ')[1]!,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
