import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { configDir, writePrivateFile } from '../platform/cli/cli-config.js';
import { CliError } from '../platform/cli/cli-error.js';

/**
 * The files of the original STUPS Zign (1.1 and later) and the tools built on its library:
 * `~/.config/zalando-token-cli/zalando-token-cli.yaml` (where to log in) and `tokens.yaml` (named
 * tokens). We write them so that those tools, still installed next to ours, work against this
 * platform and see the tokens our zign obtained.
 */
export const TOKEN_CLI = 'zalando-token-cli';

/** The public OAuth client the original Zign logged in with; ours is the same built-in client. */
export const TOKEN_CLI_CLIENT_ID = 'zign';

/**
 * The original token service served several business partners and Zign sent the one to log in
 * for (`business_partner_id`, prompted once and kept). This platform serves one organisation
 * and ignores the parameter, but those clients prompt until the key is set: this placeholder
 * fills it. A value already in the file is kept.
 */
export const BUSINESS_PARTNER_PLACEHOLDER = 'stups';

/** One named token as the original Zign keeps it in `tokens.yaml`. */
export interface TokenCliToken {
  access_token: string;
  /** Epoch seconds; the original checks `creation_time + expires_in` for validity. */
  creation_time: number;
  expires_in: number;
  token_type: string;
  /** Space-separated, as in a token answer. */
  scope: string;
}

export function tokenCliConfigFile(env: NodeJS.ProcessEnv): string {
  return join(configDir(TOKEN_CLI, env), `${TOKEN_CLI}.yaml`);
}

export function tokenCliTokensFile(env: NodeJS.ProcessEnv): string {
  return join(configDir(TOKEN_CLI, env), 'tokens.yaml');
}

/** A YAML file holding a mapping (empty when missing); anything else is a one-line CliError. */
async function readMapping(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`${file}: expected a mapping of keys to values`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Points the original Zign at this platform: `authorize_url`, `token_url`, `client_id` and a
 * `business_partner_id` (see the placeholder), keeping every other key of an existing file.
 */
export async function writeTokenCliConfig(
  env: NodeJS.ProcessEnv,
  endpoints: { authorize_url: string; token_url: string },
): Promise<{ file: string; values: Record<string, string> }> {
  const file = tokenCliConfigFile(env);
  const current = await readMapping(file);
  const values = {
    authorize_url: endpoints.authorize_url,
    token_url: endpoints.token_url,
    client_id: TOKEN_CLI_CLIENT_ID,
    business_partner_id:
      typeof current.business_partner_id === 'string' && current.business_partner_id !== ''
        ? current.business_partner_id
        : BUSINESS_PARTNER_PLACEHOLDER,
  };
  await writePrivateFile(file, stringify({ ...current, ...values }));
  return { file, values };
}

/** Adds or replaces one named token in `tokens.yaml`, keeping the other entries. */
export async function copyToTokenCli(
  env: NodeJS.ProcessEnv,
  name: string,
  token: TokenCliToken,
): Promise<void> {
  const file = tokenCliTokensFile(env);
  const tokens = await readMapping(file);
  tokens[name] = token;
  await writePrivateFile(file, stringify(tokens));
}

/** Removes one named token from `tokens.yaml`, if it is there. */
export async function removeFromTokenCli(env: NodeJS.ProcessEnv, name: string): Promise<void> {
  const file = tokenCliTokensFile(env);
  const tokens = await readMapping(file);
  if (!(name in tokens)) return;
  delete tokens[name];
  await writePrivateFile(file, stringify(tokens));
}
