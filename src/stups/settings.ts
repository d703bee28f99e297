import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { awsSettingsFromEnv } from '../platform/aws/client-config.js';
import { ConfigError } from '../platform/errors.js';
import { SERVICE_NAMES } from '../platform/service-context.js';
import { settingsFromEnv } from '../platform/settings/env-overrides.js';
import { mergeSettings } from '../platform/settings/merge.js';
import { MODULES } from './modules.js';
import { type PlatformConfig, PlatformConfigSchema } from './platform-config.js';

/** The section of platform-wide settings; every other section is a module's, under its name. */
export const PLATFORM_SECTION = 'platform';

/** Every section of the settings tree, platform first, then MODULES in order. */
export function settingsSections(): Array<{ name: string; schema: z.ZodType }> {
  return [
    { name: PLATFORM_SECTION, schema: PlatformConfigSchema },
    ...MODULES.map((m) => ({ name: m.name, schema: m.settings })),
  ];
}

/** The effective settings: the platform's and each module's, parsed and defaulted. */
export interface StupsSettings {
  platform: PlatformConfig;
  modules: Record<string, unknown>;
}

type Env = Readonly<Record<string, string | undefined>>;

function parseJson(variable: string, raw: string | undefined, hint: string, problems: string[]): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    problems.push(`${variable}: must be ${hint}`);
    return undefined;
  }
}

/**
 * The environment variables `stups` has always read, as a partial settings tree. They keep
 * working beside the generic `STUPS_<SECTION>__<SETTING>`, which wins over them.
 */
export function legacyEnvSettings(env: Env, problems: string[]): Record<string, unknown> {
  const urls: Record<string, string> = {};
  for (const name of SERVICE_NAMES) {
    const value = env[`STUPS_URL_${name.toUpperCase().replace(/-/g, '_')}`];
    if (value) urls[name] = value.replace(/\/+$/, '');
  }
  const aws = awsSettingsFromEnv(env);
  return {
    platform: {
      dataDir: env.STUPS_DATA_DIR || undefined,
      databaseUrl: env.DATABASE_URL || undefined,
      host: env.STUPS_HOST || undefined,
      publicHost: env.STUPS_PUBLIC_HOST || undefined,
      basePort: env.STUPS_BASE_PORT || undefined,
      orgFile: env.STUPS_ORG_FILE || undefined,
      logLevel: env.STUPS_LOG_LEVEL || undefined,
      keyEncryptionSecret: env.STUPS_KEY_ENCRYPTION_SECRET || undefined,
      externalIssuers: parseJson(
        'STUPS_EXTERNAL_ISSUERS',
        env.STUPS_EXTERNAL_ISSUERS,
        'a JSON array of {issuer, audience, jwksUri?, realm?, realmClaim?, uidClaim?, timeoutMs?}',
        problems,
      ),
      urls: Object.keys(urls).length ? urls : undefined,
      aws: Object.keys(aws).length ? aws : undefined,
    },
    pierone: {
      publicTeams: env.STUPS_PIERONE_PUBLIC_TEAMS
        ? env.STUPS_PIERONE_PUBLIC_TEAMS.split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : undefined,
      blobBucket: env.STUPS_BLOB_BUCKET || undefined,
    },
    even: mergeSettings(
      parseJson('STUPS_EVEN_CONFIG', env.STUPS_EVEN_CONFIG, 'a JSON object of even settings', problems),
      { sshKeyFile: env.STUPS_EVEN_SSH_KEY_FILE || undefined },
    ),
  };
}

/** Reads a stups.yaml; problems are collected, not thrown, so all are reported together. */
export async function readSettingsFile(file: string, problems: string[]): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    problems.push(`${file}: not valid YAML (${(error as Error).message.split('\n')[0]})`);
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(
      `${file}: must be a mapping of sections (platform, ${MODULES.map((m) => m.name).join(', ')})`,
    );
    return {};
  }
  return parsed as Record<string, unknown>;
}

/**
 * The settings tree in steps, lowest first: defaults, the YAML file (`--config` or
 * `STUPS_CONFIG`), the classic environment variables, `STUPS_<SECTION>__<SETTING>`, flags.
 * Every problem is reported at once as `path: message` in one ConfigError.
 */
export async function loadSettings(input: {
  env: Env;
  configFile?: string | undefined;
  /** Flags, as a partial tree (`{ platform: { dataDir } }`). */
  flags?: Record<string, unknown>;
}): Promise<StupsSettings> {
  const problems: string[] = [];
  const file = input.configFile ?? (input.env.STUPS_CONFIG || undefined);
  const fromFile = file ? await readSettingsFile(file, problems) : {};
  const sections = settingsSections();
  const generic = settingsFromEnv(sections, input.env);
  problems.push(...generic.problems);
  const tree = mergeSettings(
    fromFile,
    legacyEnvSettings(input.env, problems),
    generic.tree,
    input.flags ?? {},
  );
  return parseSettingsTree(tree, problems);
}

/** Validates a whole tree; `problems` found earlier are reported with those found here. */
export function parseSettingsTree(tree: Record<string, unknown>, problems: string[] = []): StupsSettings {
  const sections = settingsSections();
  for (const key of Object.keys(tree)) {
    if (!sections.some((s) => s.name === key)) {
      problems.push(`${key}: unknown section; sections are ${sections.map((s) => s.name).join(', ')}`);
    }
  }
  const values: Record<string, unknown> = {};
  for (const section of sections) {
    const result = section.schema.safeParse(tree[section.name] ?? {});
    if (result.success) values[section.name] = result.data;
    else {
      for (const issue of result.error.issues) {
        const path = [section.name, ...issue.path.map(String)];
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) problems.push(`${[...path, key].join('.')}: unknown setting`);
        } else {
          problems.push(`${path.join('.')}: ${issue.message}`);
        }
      }
    }
  }
  const platform = values[PLATFORM_SECTION] as PlatformConfig | undefined;
  if (platform && (platform.tlsCert === undefined) !== (platform.tlsKey === undefined)) {
    problems.push('platform.tlsCert/tlsKey: give both a certificate and a key, or neither');
  }
  if (platform?.databaseUrl && !platform.keyEncryptionSecret) {
    problems.push(
      'platform.keyEncryptionSecret: set STUPS_KEY_ENCRYPTION_SECRET (16+ characters) when using PostgreSQL, the same for every replica',
    );
  }
  if (problems.length || !platform) throw new ConfigError(problems);
  const { [PLATFORM_SECTION]: _platform, ...modules } = values;
  return { platform: { ...platform, dataDir: resolve(platform.dataDir) }, modules };
}
