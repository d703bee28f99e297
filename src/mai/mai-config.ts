import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Document, isMap, parseDocument, stringify } from 'yaml';
import { configDir, writePrivateFile } from '../platform/cli/cli-config.js';
import { CliError } from '../platform/cli/cli-error.js';

/**
 * `~/.config/mai/mai.yaml`, in STUPS Mai's format, so an existing file keeps working:
 *
 *   global: {default_profile: NAME}
 *   NAME:
 *     saml_identity_provider_url: https://…
 *     saml_role: [PROVIDER_ARN, ROLE_ARN, ACCOUNT_NAME]
 *     saml_user: USER
 *
 * Edited through the YAML document (not a plain object) so comments a person wrote survive.
 */
export interface MaiProfile {
  name: string;
  saml_identity_provider_url: string;
  /** `[provider ARN, role ARN, account name]`. */
  saml_role: [string, string, string];
  saml_user?: string | undefined;
}

export interface MaiConfig {
  file: string;
  document: Document;
  defaultProfile: string | undefined;
  profiles: MaiProfile[];
}

export function maiConfigFile(env: NodeJS.ProcessEnv, override?: string): string {
  return override ?? join(configDir('mai', env), 'mai.yaml');
}

/** The IdP URL as STUPS stored it: `https://` added when no scheme was given. */
export function normaliseIdpUrl(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
}

function readProfile(name: string, value: unknown, file: string): MaiProfile {
  const fail = (why: string): never => {
    throw new CliError(`${file}: profile "${name}": ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a mapping');
  const entry = value as Record<string, unknown>;
  const url = entry.saml_identity_provider_url;
  if (typeof url !== 'string' || url === '') return fail('saml_identity_provider_url is missing');
  const role = entry.saml_role;
  if (!Array.isArray(role) || role.length !== 3 || !role.every((r) => typeof r === 'string')) {
    return fail('saml_role must be [provider ARN, role ARN, account name]');
  }
  const user = entry.saml_user;
  if (user !== undefined && user !== null && typeof user !== 'string') return fail('saml_user must be text');
  return {
    name,
    saml_identity_provider_url: normaliseIdpUrl(url),
    saml_role: role as [string, string, string],
    saml_user: typeof user === 'string' ? user : undefined,
  };
}

export async function loadMaiConfig(env: NodeJS.ProcessEnv, override?: string): Promise<MaiConfig> {
  const file = maiConfigFile(env, override);
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(`${file}: ${(error as Error).message}`);
    }
  }
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new CliError(`${file}: ${document.errors[0]!.message.split('\n')[0]}`);
  }
  const data: unknown = document.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`${file}: expected a mapping of profile names to profiles`);
  }
  const entries = Object.entries(data as Record<string, unknown>);
  const global = (data as Record<string, unknown>).global;
  const defaultProfile =
    typeof global === 'object' && global !== null && 'default_profile' in global
      ? String((global as Record<string, unknown>).default_profile)
      : undefined;
  const profiles = entries
    .filter(([name]) => name !== 'global')
    .map(([name, value]) => readProfile(name, value, file))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { file, document, defaultProfile, profiles };
}

function ensureMap(config: MaiConfig): void {
  if (!isMap(config.document.contents)) config.document.contents = config.document.createNode({});
}

/** Adds or replaces a profile, keeping the rest of the file (comments included). */
export function putProfile(config: MaiConfig, profile: MaiProfile): void {
  ensureMap(config);
  const value: Record<string, unknown> = {
    saml_identity_provider_url: profile.saml_identity_provider_url,
    saml_role: profile.saml_role,
  };
  if (profile.saml_user) value.saml_user = profile.saml_user;
  config.document.set(profile.name, config.document.createNode(value));
}

export function deleteProfile(config: MaiConfig, name: string): boolean {
  ensureMap(config);
  return config.document.delete(name);
}

/** `set-default` replaces the whole `global` key, as STUPS Mai did. */
export function setDefaultProfile(config: MaiConfig, name: string): void {
  ensureMap(config);
  config.document.set('global', config.document.createNode({ default_profile: name }));
}

export async function saveMaiConfig(config: MaiConfig): Promise<void> {
  await writePrivateFile(config.file, config.document.toString());
}

/** `last_update.yaml`: when Mai last logged in, and with which profile. */
export interface LastUpdate {
  timestamp: number;
  profile: string;
}

export function lastUpdateFile(env: NodeJS.ProcessEnv): string {
  return join(configDir('mai', env), 'last_update.yaml');
}

export async function readLastUpdate(env: NodeJS.ProcessEnv): Promise<LastUpdate | undefined> {
  try {
    const parsed = parseDocument(await readFile(lastUpdateFile(env), 'utf8')).toJS() as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { timestamp, profile } = parsed as Record<string, unknown>;
    if (typeof timestamp !== 'number' || typeof profile !== 'string') return undefined;
    return { timestamp, profile };
  } catch {
    // No file (never logged in) or a corrupt one: both only mean "log in again".
    return undefined;
  }
}

export async function writeLastUpdate(env: NodeJS.ProcessEnv, update: LastUpdate): Promise<void> {
  await writePrivateFile(lastUpdateFile(env), stringify(update));
}

/** STUPS Mai refreshes at 90 % of the one-hour session: 54 minutes. */
export const REFRESH_AFTER_SECONDS = 3600 * 0.9;

/** `mai require`: log in again only when the last login is older than 54 minutes or for another profile. */
export function loginNeeded(last: LastUpdate | undefined, profile: string, nowSeconds: number): boolean {
  return !last || last.profile !== profile || nowSeconds - last.timestamp >= REFRESH_AFTER_SECONDS;
}

/** The profile `mai` uses when none is named: the default, else the alphabetically first. */
export function chooseProfile(config: MaiConfig, name?: string): MaiProfile {
  if (config.profiles.length === 0) {
    throw new CliError('No profile configured. Use "mai create .." to create a new profile.');
  }
  const wanted = name ?? config.defaultProfile;
  if (wanted === undefined) return config.profiles[0]!;
  const profile = config.profiles.find((p) => p.name === wanted);
  if (!profile) {
    throw new CliError(
      `profile "${wanted}" does not exist (profiles: ${config.profiles.map((p) => p.name).join(', ')})`,
    );
  }
  return profile;
}

/** `mai create-all`'s names: account and role names without their first "-" segment. */
export function generatedProfileName(accountName: string, roleArn: string): string {
  const role = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const strip = (value: string) => (value.includes('-') ? value.slice(value.indexOf('-') + 1) : value);
  return `${strip(accountName)}-${strip(role)}`;
}
