import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { AssumeRoleError, assumedRoleCredentials } from '../../platform/aws/sts-credentials.js';
import type { AwsSettings } from '../../platform/aws/client-config.js';
import type { AccountConfig } from '../contract.js';
import { type AccountClients, accountClients, type AwsCredentials, type CallRecorder } from './clients.js';

/** Raised for anything that fails one account; the message is the report's one-line reason. */
export class AccountFailure extends Error {
  override name = 'AccountFailure';
}

export interface Login {
  /** The account the standard credential chain logs in to. */
  callerAccount: string;
  settings: AwsSettings;
  /** Keys from the CLI's environment; absent means the SDK's standard chain. */
  credentials?: AwsCredentials;
  /** The login identity's own clients; every account's role is assumed through their STS. */
  home: AccountClients;
  record?: CallRecorder;
}

/**
 * The first link of the standard chain, read from the CLI's injected environment instead of
 * `process.env` (so commands run in-process in tests); without keys the SDK's chain applies
 * (shared profile, SSO, container and instance roles).
 */
export function credentialsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): AwsCredentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/** Resolves the login identity once; every account is reached from it. */
export async function standardLogin(
  settings: AwsSettings,
  credentials?: AwsCredentials,
  record?: CallRecorder,
): Promise<Login> {
  const clients = accountClients(settings, 'login', credentials, record);
  let me;
  try {
    me = await clients.sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    throw new AccountFailure(
      `cannot log in with the standard credential chain: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (!me.Account) throw new AccountFailure('the credential chain gave no account');
  return {
    callerAccount: me.Account,
    settings,
    home: clients,
    ...(credentials ? { credentials } : {}),
    ...(record ? { record } : {}),
  };
}

/**
 * Clients acting in the account: the chain's own when it is that account, else the account's
 * `login_role` assumed from it. The account reached is checked against the file's id, so a
 * wrong id or a role in the wrong account never configures the wrong account.
 */
export async function loginToAccount(login: Login, account: AccountConfig): Promise<AccountClients> {
  if (login.callerAccount === account.id) {
    return accountClients(login.settings, account.id, login.credentials, login.record);
  }
  const roleArn = `arn:aws:iam::${account.id}:role/${account.login_role}`;
  // Renewing: a run over hundreds of accounts may outlast the hour STS gives.
  const credentials = assumedRoleCredentials(login.home.sts, roleArn, 'sevenseconds');
  try {
    await credentials();
  } catch (error) {
    if (error instanceof AssumeRoleError) throw new AccountFailure(error.message);
    throw error;
  }
  const clients = accountClients(login.settings, account.id, credentials, login.record);
  const me = await clients.sts.send(new GetCallerIdentityCommand({}));
  if (me.Account !== account.id) {
    throw new AccountFailure(`assuming ${roleArn} reached account ${me.Account}, not ${account.id}`);
  }
  return clients;
}
