import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The one place AWS settings are resolved. Region and endpoint come from settings or the
 * standard AWS environment; credentials are left to the SDK's default provider chain
 * (environment, shared profile `profile`, SSO, container and instance roles), which every
 * client built from `awsClientConfig` uses.
 */
export const AwsSettingsSchema = z.strictObject({
  region: z
    .string()
    .min(1)
    .optional()
    .describe('AWS region (env AWS_REGION, AWS_DEFAULT_REGION, or the profile in ~/.aws/config)'),
  endpoint: z
    .url()
    .optional()
    .describe('Endpoint for every AWS client instead of AWS, e.g. an emulator (env AWS_ENDPOINT_URL)'),
  s3Endpoint: z
    .url()
    .optional()
    .describe('Endpoint for S3 only, e.g. MinIO; turns on path-style addressing (env AWS_ENDPOINT_URL_S3)'),
  profile: z
    .string()
    .min(1)
    .optional()
    .describe('Shared-config profile for region and credentials (env AWS_PROFILE)'),
});
export type AwsSettings = z.output<typeof AwsSettingsSchema>;

/** What SDK v3 clients take; spread it into `new S3Client({...})`, `new EC2Client({...})`. */
export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  profile?: string;
  maxAttempts: number;
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
      inSection = wanted.includes((section[1] ?? '').trim());
      continue;
    }
    const kv = /^region\s*=\s*(\S+)/.exec(line);
    if (inSection && kv) return kv[1];
  }
  return undefined;
}

/**
 * AWS settings from the standard environment: `AWS_REGION`, `AWS_DEFAULT_REGION`, the
 * profile's region (`AWS_PROFILE`, `AWS_CONFIG_FILE` or `~/.aws/config`), `AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_S3`. Only `main` (or a CLI through its io) passes `process.env` here.
 */
export function awsSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): AwsSettings {
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || undefined;
  const configFile = env.AWS_CONFIG_FILE || join(env.HOME || homedir(), '.aws', 'config');
  const region =
    env.AWS_REGION || env.AWS_DEFAULT_REGION || regionFromConfigFile(configFile, profile ?? 'default');
  return {
    ...(region ? { region } : {}),
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
    ...(env.AWS_ENDPOINT_URL_S3 ? { s3Endpoint: env.AWS_ENDPOINT_URL_S3 } : {}),
    ...(profile ? { profile } : {}),
  };
}

/** Client configuration for one AWS service; S3 gets its own endpoint and path-style addressing. */
export function awsClientConfig(settings: AwsSettings, service?: 's3'): AwsClientConfig {
  const endpoint = (service === 's3' ? settings.s3Endpoint : undefined) ?? settings.endpoint;
  return {
    ...(settings.region ? { region: settings.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    // S3-compatible stores behind a custom endpoint rarely serve virtual-hosted bucket names.
    ...(service === 's3' && endpoint ? { forcePathStyle: true } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    maxAttempts: 3,
  };
}
