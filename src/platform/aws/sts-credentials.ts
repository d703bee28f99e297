import type * as StsPackage from '@aws-sdk/client-sts';
import type { Credentials, STSClient } from '@aws-sdk/client-sts';
import { lazyPackage } from '../lazy-package.js';

// Loaded on the first role assumed, not with every service that may assume one (see lazyPackage).
const stsPackage = lazyPackage<typeof StsPackage>('@aws-sdk/client-sts');

/**
 * Temporary credentials of an assumed role in the SDK's credential identity shape (what a client's
 * `credentials` takes), with the session token and expiry STS always gives for them.
 */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * STS's answer (`AssumeRole*`'s `Credentials`) as SDK credentials; undefined when STS left a part
 * out, so each caller says so in its own error type (a CLI line, a failed account, a retry).
 */
export function credentialsFromSts(answer: Credentials | undefined): TemporaryCredentials | undefined {
  const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = answer ?? {};
  if (!AccessKeyId || !SecretAccessKey || !SessionToken || !Expiration) return undefined;
  return {
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: SessionToken,
    expiration: Expiration,
  };
}

/** Raised when STS refuses a role or answers without credentials; the message is one line. */
export class AssumeRoleError extends Error {
  override name = 'AssumeRoleError';
}

/** Renewed this long before they expire, so no call is signed with credentials about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * A credential provider for a client: `roleArn` assumed through `sts` on first use and again five
 * minutes before the credentials expire (a run over hundreds of accounts outlasts the one hour
 * STS gives). Concurrent first calls share one AssumeRole.
 */
export function assumedRoleCredentials(
  sts: STSClient,
  roleArn: string,
  sessionName: string,
): () => Promise<TemporaryCredentials> {
  let current: Promise<TemporaryCredentials> | undefined;
  let expires = 0;
  const assume = async (): Promise<TemporaryCredentials> => {
    let answer;
    try {
      answer = await sts.send(
        new (stsPackage().AssumeRoleCommand)({ RoleArn: roleArn, RoleSessionName: sessionName }),
      );
    } catch (error) {
      throw new AssumeRoleError(`cannot assume ${roleArn}: ${(error as Error).message.split('\n')[0]}`, {
        cause: error,
      });
    }
    const credentials = credentialsFromSts(answer.Credentials);
    if (!credentials) throw new AssumeRoleError(`assuming ${roleArn} gave no credentials`);
    expires = credentials.expiration.getTime();
    return credentials;
  };
  return () => {
    if (!current || expires - Date.now() < RENEW_BEFORE_MS) {
      // Until it settles, every caller waits for this one attempt; a failed one is not kept.
      expires = Number.POSITIVE_INFINITY;
      const pending: Promise<TemporaryCredentials> = assume().catch((error: unknown) => {
        if (current === pending) current = undefined;
        throw error;
      });
      current = pending;
    }
    return current;
  };
}
