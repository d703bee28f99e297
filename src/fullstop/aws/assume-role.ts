import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Credentials of an assumed role, renewed five minutes before they expire. */
export function assumedRole(aws: AwsSettings, roleArn: string): () => Promise<Credentials> {
  const sts = new STSClient(awsClientConfig(aws));
  let current: Credentials | undefined;
  return async () => {
    if (current?.expiration && current.expiration.getTime() - Date.now() > 5 * 60_000) return current;
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'fullstop' }),
    );
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    current = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
    return current;
  };
}

/** The client options reading `account`: its assumed role when `roleName` is set, else the own credentials. */
export function accountCredentials(
  aws: AwsSettings,
  account: string,
  roleName: string | undefined,
): { credentials?: () => Promise<Credentials> } {
  return roleName ? { credentials: assumedRole(aws, `arn:aws:iam::${account}:role/${roleName}`) } : {};
}
