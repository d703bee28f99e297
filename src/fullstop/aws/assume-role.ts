import { STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import { assumedRoleCredentials, type TemporaryCredentials } from '../../platform/aws/sts-credentials.js';

export type Credentials = TemporaryCredentials;

/** Credentials of an assumed role, renewed five minutes before they expire. */
export function assumedRole(aws: AwsSettings, roleArn: string): () => Promise<Credentials> {
  return assumedRoleCredentials(new STSClient(awsClientConfig(aws)), roleArn, 'fullstop');
}

/** The client options reading `account`: its assumed role when `roleName` is set, else the own credentials. */
export function accountCredentials(
  aws: AwsSettings,
  account: string,
  roleName: string | undefined,
): { credentials?: () => Promise<Credentials> } {
  return roleName ? { credentials: assumedRole(aws, `arn:aws:iam::${account}:role/${roleName}`) } : {};
}
