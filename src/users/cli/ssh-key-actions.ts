import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { loadToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { type Column, parseOutputFormat, renderRows } from '../../platform/cli/output.js';
import { serviceClient } from '../../platform/cli/service-client.js';
import { getToken, type ZignDeps } from '../../zign/get-token.js';
import { SshKeySchema } from '../contract.js';

type SshKey = z.infer<typeof SshKeySchema>;

/** Where `ssh-keygen` puts public keys by default, in the order OpenSSH itself offers them. */
const DEFAULT_PUBLIC_KEYS = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub'];

const COLUMNS: Column<SshKey>[] = [
  { title: 'Fingerprint', key: 'fingerprint', value: (k) => k.fingerprint },
  { title: 'Type', key: 'type', value: (k) => k.public_key.split(' ')[0] },
  { title: 'Comment', key: 'comment', value: (k) => k.public_key.split(' ').slice(2).join(' ') },
  { title: 'Added', key: 'created', value: (k) => k.created },
];

/**
 * Whose keys: `--user`, else the user the token was issued to (the token service's own tokens
 * name it in `sub`), else zign's configured user. The server decides what the caller may touch.
 */
async function whoseKeys(given: string | undefined, deps: ZignDeps): Promise<string> {
  if (given !== undefined) return given;
  const token = await getToken('default', ['uid'], {}, deps);
  try {
    const { sub } = decodeJwt(token);
    if (sub) return sub;
  } catch {
    // Not a JWT (a pinned opaque token): fall back to the configured user.
  }
  const user = (await loadToolConfig('zign', deps.io.env)).user ?? deps.io.env.USER;
  if (!user) throw new CliError('cannot tell whose keys: pass --user UID', 2);
  return user;
}

async function readPublicKey(
  file: string | undefined,
  deps: ZignDeps,
): Promise<{ key: string; from: string }> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return { key: Buffer.concat(chunks).toString('utf8').trim(), from: 'standard input' };
  }
  const candidates =
    file !== undefined
      ? [resolve(deps.io.cwd, file)]
      : DEFAULT_PUBLIC_KEYS.map((name) => join(deps.io.env.HOME || homedir(), '.ssh', name));
  for (const candidate of candidates) {
    try {
      return { key: (await readFile(candidate, 'utf8')).trim(), from: candidate };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && file === undefined) continue;
      throw new CliError(`cannot read ${candidate}: ${code ?? (error as Error).message}`);
    }
  }
  throw new CliError(
    'no public key in ~/.ssh (id_ed25519.pub, id_ecdsa.pub, id_rsa.pub): create one with "ssh-keygen -t ed25519" or name the file',
  );
}

export async function listKeys(deps: ZignDeps, options: { user?: string; output: string }): Promise<void> {
  const format = parseOutputFormat(options.output);
  const uid = await whoseKeys(options.user, deps);
  const list = await (
    await users(deps)
  ).parsed(
    z.array(SshKeySchema),
    'a list of SSH keys',
    'GET',
    `/employees/${encodeURIComponent(uid)}/ssh-keys`,
  );
  deps.io.stdout.write(renderRows(list, COLUMNS, format));
}

export async function addKey(
  deps: ZignDeps,
  file: string | undefined,
  options: { user?: string; output: string },
): Promise<void> {
  const format = parseOutputFormat(options.output);
  const { key, from } = await readPublicKey(file, deps);
  if (/PRIVATE KEY/.test(key)) {
    throw new CliError(`${from} holds a private key: register the public key (.pub) only`, 2);
  }
  const uid = await whoseKeys(options.user, deps);
  const added = await (
    await users(deps)
  ).parsed(SshKeySchema, 'an SSH key', 'POST', `/employees/${encodeURIComponent(uid)}/ssh-keys`, {
    public_key: key,
  });
  if (format === 'text') deps.io.stdout.write(`Added ${added.fingerprint} for ${uid} (from ${from})\n`);
  else deps.io.stdout.write(renderRows([added], COLUMNS, format));
}

export async function removeKey(
  deps: ZignDeps,
  fingerprint: string,
  options: { user?: string },
): Promise<void> {
  const uid = await whoseKeys(options.user, deps);
  // 204 on success; a 404 (no such key) or 403 becomes one line with the server's message.
  await (
    await users(deps)
  ).json('DELETE', `/employees/${encodeURIComponent(uid)}/ssh-keys/${encodeURIComponent(fingerprint)}`);
  deps.io.stdout.write(`Removed ${fingerprint} from ${uid}\n`);
}

function users(deps: ZignDeps) {
  return serviceClient('stups', 'the user directory', deps, { urlKey: 'users_url' });
}
