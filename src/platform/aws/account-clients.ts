import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { type AwsClientConfig, type AwsSettings, awsClientConfig } from './client-config.js';

/** Fixed keys or a provider the SDK calls before each request (an assumed role that renews). */
export type AwsCredentialSource = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** An SDK v3 client class (`S3Client`, `EC2Client`, …) as far as the factory needs it. */
export type AwsClientClass<C> = new (config: AwsClientConfig & { credentials?: AwsCredentialSource }) => C;

interface Destroyable {
  destroy(): void;
}

export interface AccountClientOptions {
  /** Credentials acting in the account; absent means the SDK's standard chain. */
  credentials?: AwsCredentialSource | undefined;
  /** Sees every client once, when it is made (e.g. to add middleware). */
  onClient?: (client: object, service: string, region: string) => void;
}

/** The SDK clients of one account: one per client class and region, made on first use. */
export interface AccountClientFactory {
  client<C extends Destroyable>(Client: AwsClientClass<C>, region: string): C;
  /** Closes every client made (their sockets); the factory makes new ones after. */
  destroy(): void;
}

/** `S3Client` → `s3`, `CloudTrailClient` → `cloudtrail`: the name call records and S3 settings use. */
export function serviceOf(Client: { name: string }): string {
  return Client.name.replace(/Client$/, '').toLowerCase();
}

/**
 * Clients acting in one account, built from the kernel's AWS settings (endpoint, profile; S3 with
 * its own endpoint and path style) and sharing one credential source, so an assumed role is
 * assumed once per account, not once per client. Used by every component that works across
 * accounts (fullstop reading them, sevenseconds configuring them).
 */
export function accountClientFactory(
  settings: AwsSettings,
  options: AccountClientOptions = {},
): AccountClientFactory {
  const made = new Map<AwsClientClass<Destroyable>, Map<string, Destroyable>>();
  return {
    client<C extends Destroyable>(Client: AwsClientClass<C>, region: string): C {
      let byRegion = made.get(Client);
      if (!byRegion) made.set(Client, (byRegion = new Map<string, Destroyable>()));
      let client = byRegion.get(region) as C | undefined;
      if (!client) {
        const service = serviceOf(Client);
        client = new Client({
          ...awsClientConfig({ ...settings, region }, service === 's3' ? 's3' : undefined),
          ...(options.credentials ? { credentials: options.credentials } : {}),
        });
        options.onClient?.(client, service, region);
        byRegion.set(region, client);
      }
      return client;
    },
    destroy() {
      for (const byRegion of made.values()) for (const client of byRegion.values()) client.destroy();
      made.clear();
    },
  };
}
