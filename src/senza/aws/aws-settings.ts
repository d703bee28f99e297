import { awsClientConfig, awsSettingsFromEnv } from '../../platform/aws/client-config.js';
import { CliError } from '../../platform/cli/cli-error.js';

/** Where and how to reach AWS: the region and, for tests and local emulators, an endpoint. */
export interface AwsSettings {
  region: string;
  /** `AWS_ENDPOINT_URL`: every client talks to this endpoint instead of AWS. */
  endpoint?: string;
}

/**
 * The region from `--region`, else the standard AWS chain as the kernel resolves it
 * (src/platform/aws): `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
 */
export function resolveAwsSettings(region: string | undefined, env: NodeJS.ProcessEnv): AwsSettings {
  const fromEnv = awsSettingsFromEnv(env);
  const resolved = region || fromEnv.region;
  if (!resolved) {
    throw new CliError('no AWS region: pass --region, set AWS_REGION, or set "region" in ~/.aws/config', 1);
  }
  return { region: resolved, ...(fromEnv.endpoint ? { endpoint: fromEnv.endpoint } : {}) };
}

/** Client configuration shared by every SDK client Senza creates, from the kernel's factory. */
export function clientConfig(settings: AwsSettings): {
  region: string;
  endpoint?: string;
  maxAttempts: number;
} {
  const { region, endpoint, maxAttempts } = awsClientConfig(settings);
  return { region: region ?? settings.region, ...(endpoint ? { endpoint } : {}), maxAttempts };
}
