import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';

/** Temporary credentials of an assumed role (the SDK's credential identity shape). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One SDK call as the recorder sees it: which client, which command, in which account. */
export interface AwsCall {
  service: string;
  command: string;
  /** The account the call acts in; the login's own account for the first STS calls. */
  account: string;
  region: string;
}

export type CallRecorder = (call: AwsCall) => void;

/** The clients one account is configured with; regional ones are made on first use. */
export interface AccountClients {
  iam: IAMClient;
  sts: STSClient;
  s3(region: string): S3Client;
  ec2(region: string): EC2Client;
  rds(region: string): RDSClient;
  elasticache(region: string): ElastiCacheClient;
  kms(region: string): KMSClient;
  cloudtrail(region: string): CloudTrailClient;
  cloudformation(region: string): CloudFormationClient;
  acm(region: string): ACMClient;
  /** Route 53 is global; its endpoint lives in us-east-1. */
  route53: Route53Client;
  /** Clients of the account's `admin_account` (parent DNS zone), logged in on first use. */
  admin?: () => Promise<AccountClients>;
  /** Clients of the `base_ami.account_name` account (owner of the Taupage AMIs), logged in on first use. */
  amiAccount?: () => Promise<AccountClients>;
  /** The id of that account. */
  amiAccountId?: string;
}

interface SdkClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Records every call before it is sent, so a test can prove which calls a command made. */
function recordCalls<C>(
  client: C,
  service: string,
  account: string,
  region: string,
  record?: CallRecorder,
): C {
  if (!record) return client;
  (client as SdkClient).middlewareStack.add(
    (next, context) => (args) => {
      record({
        service,
        command: (context.commandName ?? 'unknown').replace(/Command$/, ''),
        account,
        region,
      });
      return next(args);
    },
    { step: 'initialize', name: 'sevensecondsCallRecorder' },
  );
  return client;
}

/**
 * Clients for one account, built from the kernel's AWS settings (region, `AWS_ENDPOINT_URL`,
 * profile); `credentials` absent means the standard chain.
 */
export function accountClients(
  settings: AwsSettings,
  account: string,
  credentials: AwsCredentials | undefined,
  record?: CallRecorder,
): AccountClients {
  const base = (region: string | undefined, service?: 's3') => ({
    ...awsClientConfig({ ...settings, ...(region ? { region } : {}) }, service),
    ...(credentials ? { credentials } : {}),
  });
  const home = settings.region ?? 'us-east-1';
  const s3 = new Map<string, S3Client>();
  const ec2 = new Map<string, EC2Client>();
  /** A regional client per service, made on first use and recorded like the others. */
  const regional = <C>(service: string, make: (config: ReturnType<typeof base>) => C) => {
    const made = new Map<string, C>();
    return (region: string): C => {
      let c = made.get(region);
      if (!c) made.set(region, (c = recordCalls(make(base(region)), service, account, region, record)));
      return c;
    };
  };
  const cloudtrail = new Map<string, CloudTrailClient>();
  return {
    iam: recordCalls(new IAMClient(base(home)), 'iam', account, home, record),
    sts: recordCalls(new STSClient(base(home)), 'sts', account, home, record),
    route53: recordCalls(new Route53Client(base('us-east-1')), 'route53', account, 'us-east-1', record),
    s3(region) {
      let c = s3.get(region);
      if (!c)
        s3.set(region, (c = recordCalls(new S3Client(base(region, 's3')), 's3', account, region, record)));
      return c;
    },
    ec2(region) {
      let c = ec2.get(region);
      if (!c) ec2.set(region, (c = recordCalls(new EC2Client(base(region)), 'ec2', account, region, record)));
      return c;
    },
    rds: regional('rds', (config) => new RDSClient(config)),
    elasticache: regional('elasticache', (config) => new ElastiCacheClient(config)),
    kms: regional('kms', (config) => new KMSClient(config)),
    cloudformation: regional('cloudformation', (config) => new CloudFormationClient(config)),
    acm: regional('acm', (config) => new ACMClient(config)),
    cloudtrail(region) {
      let c = cloudtrail.get(region);
      if (!c)
        cloudtrail.set(
          region,
          (c = recordCalls(new CloudTrailClient(base(region)), 'cloudtrail', account, region, record)),
        );
      return c;
    },
  };
}

/** Calls that only read: what `plan` may make. Everything else changes something. */
export function isReadOnlyCall(call: Pick<AwsCall, 'service' | 'command'>): boolean {
  if (call.service === 'sts') return ['GetCallerIdentity', 'AssumeRole'].includes(call.command);
  return /^(Get|List|Describe|Head)/.test(call.command);
}
