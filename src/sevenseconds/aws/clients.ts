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
import { accountClientFactory, type AwsCredentialSource } from '../../platform/aws/account-clients.js';
import type { AwsSettings } from '../../platform/aws/client-config.js';

/** Credentials acting in an account: keys, or a provider (an assumed role that renews). */
export type AwsCredentials = AwsCredentialSource;

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
function recordCalls(client: object, service: string, account: string, region: string, record: CallRecorder) {
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
  const factory = accountClientFactory(settings, {
    credentials,
    ...(record
      ? { onClient: (client, service, region) => recordCalls(client, service, account, region, record) }
      : {}),
  });
  const home = settings.region ?? 'us-east-1';
  return {
    iam: factory.client(IAMClient, home),
    sts: factory.client(STSClient, home),
    // Route 53 is global; its endpoint lives in us-east-1.
    route53: factory.client(Route53Client, 'us-east-1'),
    s3: (region) => factory.client(S3Client, region),
    ec2: (region) => factory.client(EC2Client, region),
    rds: (region) => factory.client(RDSClient, region),
    elasticache: (region) => factory.client(ElastiCacheClient, region),
    kms: (region) => factory.client(KMSClient, region),
    cloudformation: (region) => factory.client(CloudFormationClient, region),
    acm: (region) => factory.client(ACMClient, region),
    cloudtrail: (region) => factory.client(CloudTrailClient, region),
  };
}

/** Calls that only read: what `plan` may make. Everything else changes something. */
export function isReadOnlyCall(call: Pick<AwsCall, 'service' | 'command'>): boolean {
  if (call.service === 'sts') return ['GetCallerIdentity', 'AssumeRole'].includes(call.command);
  return /^(Get|List|Describe|Head)/.test(call.command);
}
