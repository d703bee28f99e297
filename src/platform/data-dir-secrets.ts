import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from './cli/cli-config.js';

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

/**
 * An SSH key pair kept in the data directory (private key owner-only), made on first use by
 * `generate`. The public key sits beside it for operators to install (e.g. on odd bastions).
 */
export async function dataDirKeyPair(
  dataDir: string,
  name: string,
  generate: () => { privateKey: string; publicKey: string },
): Promise<{ privateKey: string; publicKeyFile: string }> {
  const file = join(dataDir, 'secrets', name);
  try {
    return { privateKey: await readFile(file, 'utf8'), publicKeyFile: `${file}.pub` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pair = generate();
  await writePrivateFile(`${file}.pub`, `${pair.publicKey}\n`);
  await writePrivateFile(file, pair.privateKey);
  return { privateKey: pair.privateKey, publicKeyFile: `${file}.pub` };
}
