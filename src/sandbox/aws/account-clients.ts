import { BudgetsClient } from '@aws-sdk/client-budgets';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import { assumedRoleCredentials, type TemporaryCredentials } from '../../platform/aws/sts-credentials.js';
import type { PurgeClients } from './purge.js';
import { lazy } from './sdk.js';

/** What the sandbox service does in AWS: the organisation, and purge/prepare inside member accounts. */
export interface SandboxAwsClients {
  /** Organizations and Budgets of the management account. */
  org: OrganizationsClient;
  budgets: BudgetsClient;
  /**
   * Clients inside one member account (through its role when one is configured). Async: the
   * EC2, ELB and S3 SDKs are imported by the first purge, not by starting the service.
   */
  purgeClients(accountId: string): Promise<PurgeClients>;
  iam(accountId: string): IAMClient;
  dispose(): void;
}

/**
 * SDK clients over the platform's AWS settings. With `assumeRoleName` a member account is
 * reached through `arn:aws:iam::<id>:role/<name>` (renewed five minutes before expiry); without
 * it, through the platform's own credentials (an emulator, or a single-account trial).
 */
export function sandboxAwsClients(aws: AwsSettings, assumeRoleName?: string): SandboxAwsClients {
  const base = awsClientConfig(aws);
  // One client per kind, account and region, reused by every maintenance window.
  const made = new Map<string, { destroy(): void }>();
  const cached = <T extends { destroy(): void }>(key: string, make: () => T): T => {
    let client = made.get(key) as T | undefined;
    if (!client) {
      client = make();
      made.set(key, client);
    }
    return client;
  };
  const sts = cached('sts', () => new STSClient(base));
  const credentials = new Map<string, () => Promise<TemporaryCredentials>>();
  const credentialsOf = (accountId: string) => {
    if (!assumeRoleName) return {};
    let provider = credentials.get(accountId);
    if (!provider) {
      const roleArn = `arn:aws:iam::${accountId}:role/${assumeRoleName}`;
      provider = assumedRoleCredentials(sts, roleArn, 'stups-sandbox');
      credentials.set(accountId, provider);
    }
    return { credentials: provider };
  };
  // Organizations, Budgets and IAM are global services answered in us-east-1.
  const global = { ...base, region: 'us-east-1' };
  const iam = (accountId: string) =>
    cached(`iam/${accountId}`, () => new IAMClient({ ...global, ...credentialsOf(accountId) }));
  return {
    org: cached('org', () => new OrganizationsClient(global)),
    budgets: cached('budgets', () => new BudgetsClient(global)),
    iam,
    purgeClients: async (accountId) => {
      const [{ EC2Client }, { ElasticLoadBalancingV2Client }, { S3Client }] = await Promise.all([
        lazy.ec2(),
        lazy.elbv2(),
        lazy.s3(),
      ]);
      return {
        regional: (region) => ({
          ec2: cached(
            `ec2/${accountId}/${region}`,
            () => new EC2Client({ ...base, region, ...credentialsOf(accountId) }),
          ),
          elb: cached(
            `elb/${accountId}/${region}`,
            () => new ElasticLoadBalancingV2Client({ ...base, region, ...credentialsOf(accountId) }),
          ),
        }),
        iam: iam(accountId),
        s3: cached(
          `s3/${accountId}`,
          () =>
            new S3Client({
              ...awsClientConfig(aws, 's3'),
              region: aws.region ?? 'us-east-1',
              ...credentialsOf(accountId),
            }),
        ),
      };
    },
    dispose: () => {
      for (const client of made.values()) client.destroy();
      made.clear();
    },
  };
}
