import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../../platform/cli/cli-error.js';

/** Where and how to reach AWS: the region and, for tests and local emulators, an endpoint. */
export interface AwsSettings {
  region: string;
  /** `AWS_ENDPOINT_URL`: every client talks to this endpoint instead of AWS. */
  endpoint?: string;
}

/** Reads `region` of a profile from an AWS config file (`[default]` or `[profile name]`). */
function regionFromConfigFile(file: string, profile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`, profile];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      inSection = wanted.includes(section[1]!.trim());
      continue;
    }
    const kv = /^region\s*=\s*(\S+)/.exec(line);
    if (inSection && kv) return kv[1];
  }
  return undefined;
}

/**
 * The region from `--region`, else the standard AWS chain: `AWS_REGION`, `AWS_DEFAULT_REGION`,
 * then the profile's `region` in `AWS_CONFIG_FILE` or `~/.aws/config`.
 */
export function resolveAwsSettings(region: string | undefined, env: NodeJS.ProcessEnv): AwsSettings {
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  const configFile = env.AWS_CONFIG_FILE || join(env.HOME || homedir(), '.aws', 'config');
  const resolved =
    region || env.AWS_REGION || env.AWS_DEFAULT_REGION || regionFromConfigFile(configFile, profile);
  if (!resolved) {
    throw new CliError('no AWS region: pass --region, set AWS_REGION, or set "region" in ~/.aws/config', 1);
  }
  return { region: resolved, ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}) };
}

/** Client configuration shared by every SDK client Senza creates. */
export function clientConfig(settings: AwsSettings): {
  region: string;
  endpoint?: string;
  maxAttempts: number;
} {
  return {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    maxAttempts: 3,
  };
}
