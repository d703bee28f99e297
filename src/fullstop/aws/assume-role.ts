import type { AwsCredentialIdentity } from '@smithy/types';
import type { STSClient } from '@aws-sdk/client-sts';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import { credentialsFromSts } from '../../platform/aws/sts-credentials.js';
import { sdk } from './sdk.js';

/** Assumed-role credentials, or the platform's own (which may have no session token or expiry). */
export type Credentials = AwsCredentialIdentity;

/** The role fullstop. reads every team account through, as STUPS named it. */
export const DEFAULT_ASSUME_ROLE_NAME = 'fullstop';

/** How long a role that could not be assumed is not asked again: a run over many files asks STS once. */
const FAILURE_MEMORY_MS = 60_000;

/**
 * fullstop. cannot read an account: its role could not be assumed, or there are no credentials
 * to assume it with. The message says which account, which role and why, in one line.
 */
export class AccountAccessError extends Error {
  override readonly name = 'AccountAccessError';
}

/** Why STS (or the SDK's credential chain) failed, in words an operator can act on. */
export function accessFailureReason(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (name === 'CredentialsProviderError')
    return `the platform has no AWS credentials to assume it with (${message})`;
  if (name === 'AccessDenied' || name === 'AccessDeniedException')
    return `AWS refused: ${message} (does the role exist, and does its trust policy allow the platform's account?)`;
  return name && name !== 'Error' ? `${name}: ${message}` : message;
}

/**
 * Who reads each account: `arn:aws:iam::<account>:role/<roleName>` assumed with STS (STUPS:
 * `fullstop`), except the platform's own account (the one its credentials belong to, asked once
 * with STS GetCallerIdentity), which is read with those credentials. `roleName` '' reads every
 * account with the platform's own credentials. Assumed credentials are renewed five minutes
 * before they expire; a failure is remembered for a minute, then asked again.
 */
export class AccountAccess {
  readonly roleName: string;
  readonly #aws: AwsSettings;
  // Made on first use: the STS package is imported then, not when `stups up` starts (issue 23).
  #sts: Promise<STSClient> | undefined;
  #stsClient: STSClient | undefined;
  readonly #now: () => number;
  readonly #providers = new Map<string, () => Promise<Credentials>>();
  #ownAccount: Promise<string> | undefined;

  constructor(aws: AwsSettings, options: { roleName?: string | undefined; now?: () => number } = {}) {
    this.roleName = options.roleName ?? DEFAULT_ASSUME_ROLE_NAME;
    this.#aws = aws;
    this.#now = options.now ?? Date.now;
  }

  /** The role ARN `account` is read through, or undefined when it is read with the own credentials. */
  roleArn(account: string): string | undefined {
    return this.roleName ? `arn:aws:iam::${account}:role/${this.roleName}` : undefined;
  }

  /** Client options reading `account`: spread them into an SDK client's configuration. */
  clientOptions(account: string): { credentials?: () => Promise<Credentials> } {
    const roleArn = this.roleArn(account);
    if (!roleArn) return {};
    let provider = this.#providers.get(account);
    if (!provider) {
      provider = this.#provider(account, roleArn);
      this.#providers.set(account, provider);
    }
    return { credentials: provider };
  }

  #provider(account: string, roleArn: string): () => Promise<Credentials> {
    let current: Credentials | undefined;
    let failure: { error: AccountAccessError; until: number } | undefined;
    return async () => {
      if (current?.expiration && current.expiration.getTime() - this.#now() > 5 * 60_000) return current;
      if (failure && failure.until > this.#now()) throw failure.error;
      try {
        if ((await this.ownAccount()) === account) {
          // The own account needs no role of its own: its credentials already read it.
          current = undefined;
          return await (await this.#client()).config.credentials();
        }
        const { AssumeRoleCommand } = await sdk.sts();
        const { Credentials: c } = await (
          await this.#client()
        ).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'fullstop' }));
        current = credentialsFromSts(c);
        if (!current) throw new Error('STS returned no credentials');
        failure = undefined;
        return current;
      } catch (error) {
        const wrapped =
          error instanceof AccountAccessError
            ? error
            : new AccountAccessError(
                `cannot read account ${account} through ${roleArn}: ${accessFailureReason(error)}`,
                { cause: error },
              );
        failure = { error: wrapped, until: this.#now() + FAILURE_MEMORY_MS };
        throw wrapped;
      }
    };
  }

  /** The account of the platform's own credentials (STS GetCallerIdentity, asked once). */
  ownAccount(): Promise<string> {
    this.#ownAccount ??= (async () => {
      const { GetCallerIdentityCommand } = await sdk.sts();
      const me = await (await this.#client()).send(new GetCallerIdentityCommand({}));
      if (!me.Account) throw new Error('STS GetCallerIdentity named no account');
      return me.Account;
    })();
    // A failure (no credentials yet) is asked again next time, not remembered for ever.
    this.#ownAccount.catch(() => (this.#ownAccount = undefined));
    return this.#ownAccount;
  }

  #client(): Promise<STSClient> {
    this.#sts ??= sdk.sts().then(({ STSClient }) => {
      this.#stsClient = new STSClient(awsClientConfig(this.#aws));
      return this.#stsClient;
    });
    return this.#sts;
  }

  dispose(): void {
    this.#stsClient?.destroy();
  }
}
