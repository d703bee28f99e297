import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from '../platform/cli/cli-config.js';

/**
 * A random secret kept in the data directory (owner-only), created on first use. For the
 * embedded single-process set-up only; replicas on PostgreSQL get theirs from the environment.
 */
export async function dataDirSecret(dataDir: string, name: string): Promise<string> {
  const file = join(dataDir, 'secrets', name);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await writePrivateFile(file, secret);
  return secret;
}
