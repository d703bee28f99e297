import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePrivateFile } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';

/** `~/.docker/config.json`, honouring `DOCKER_CONFIG` as Docker and skopeo do. */
export function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG || join(env.HOME ?? '', '.docker'), 'config.json');
}

/**
 * Registers the `pierone` credential helper for a registry host, keeping everything else in
 * the file (other registries' auths and helpers) untouched.
 */
export async function installCredentialHelper(env: NodeJS.ProcessEnv, host: string): Promise<string> {
  const file = dockerConfigFile(env);
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(`${file} is not valid JSON; fix or remove it first`);
    }
  }
  const helpers = (config.credHelpers ?? {}) as Record<string, string>;
  config.credHelpers = { ...helpers, [host]: 'pierone' };
  // A stored password for the same host would win over nothing but confuse people: drop it.
  const auths = config.auths as Record<string, unknown> | undefined;
  if (auths && host in auths) delete auths[host];
  await writePrivateFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}
