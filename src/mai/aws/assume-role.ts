import {
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  type Credentials,
  STSClient,
} from '@aws-sdk/client-sts';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import { credentialsFromSts, type TemporaryCredentials } from '../../platform/aws/sts-credentials.js';
import { CliError } from '../../platform/cli/cli-error.js';

/**
 * What an identity provider hands Mai for one role: a SAML response (for a `saml-provider` ARN)
 * or a web-identity token (for an `oidc-provider` ARN). Which one follows from the provider ARN in
 * the profile, so STUPS' `saml_role` triple needs no new field (ADR 0010).
 */
export type RoleAssertion =
  | { kind: 'saml'; samlResponse: string; roleArn: string; providerArn: string }
  | { kind: 'web-identity'; token: string; roleArn: string; sessionName: string };

export type ProviderKind = 'saml' | 'web-identity';

export function providerKind(providerArn: string): ProviderKind {
  const match = /^arn:aws[a-z-]*:iam::\d{12}:(saml-provider|oidc-provider)\/.+/.exec(providerArn);
  if (!match) {
    throw new CliError(
      `"${providerArn}" is not the ARN of an IAM SAML or OIDC provider (arn:aws:iam::ACCOUNT:saml-provider/NAME)`,
    );
  }
  return match[1] === 'saml-provider' ? 'saml' : 'web-identity';
}

/** Temporary credentials as every consumer (file, credential_process, exec, endpoint) needs them. */
export type TemporaryAwsCredentials = TemporaryCredentials;

function fromSts(credentials: Credentials | undefined, roleArn: string): TemporaryAwsCredentials {
  const converted = credentialsFromSts(credentials);
  if (!converted) throw new CliError(`AWS STS answered without credentials for ${roleArn}`);
  return converted;
}

/** STS's refusals in one line each: the role's trust policy, an expired or foreign assertion. */
export function stsFailure(error: unknown, roleArn: string): never {
  const e = error as { name?: string; message?: string };
  const reason = e.message?.split('\n')[0] ?? String(error);
  if (e.name === 'AccessDenied' || e.name === 'AccessDeniedException') {
    throw new CliError(
      `AWS refused ${roleArn}: ${reason} (is the role's trust policy set up for this provider?)`,
    );
  }
  if (
    e.name === 'ExpiredTokenException' ||
    e.name === 'InvalidIdentityToken' ||
    e.name === 'IDPRejectedClaim'
  ) {
    throw new CliError(`AWS did not accept the identity provider's assertion for ${roleArn}: ${reason}`);
  }
  if (e.name === 'ValidationError') throw new CliError(`AWS STS: ${reason}`);
  throw error;
}

/**
 * Exchanges an assertion for temporary credentials. Neither call needs AWS credentials of its
 * own (the assertion is the authentication), so the client gets none and the SDK sends them
 * unsigned. Without `durationSeconds` STS gives one hour, as STUPS' Mai relied on.
 */
export async function assumeRole(
  settings: AwsSettings,
  assertion: RoleAssertion,
  options: { durationSeconds?: number | undefined } = {},
): Promise<TemporaryAwsCredentials> {
  // Only region and endpoint: a `profile` here may be the very profile Mai is about to write,
  // and these two calls are unsigned anyway. STS answers in every region; us-east-1 when none is set.
  const { endpoint, maxAttempts } = awsClientConfig(settings);
  const sts = new STSClient({
    region: settings.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    maxAttempts,
  });
  try {
    if (assertion.kind === 'saml') {
      const answer = await sts.send(
        new AssumeRoleWithSAMLCommand({
          RoleArn: assertion.roleArn,
          PrincipalArn: assertion.providerArn,
          SAMLAssertion: assertion.samlResponse,
          DurationSeconds: options.durationSeconds,
        }),
      );
      return fromSts(answer.Credentials, assertion.roleArn);
    }
    const answer = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: assertion.roleArn,
        RoleSessionName: assertion.sessionName,
        WebIdentityToken: assertion.token,
        DurationSeconds: options.durationSeconds,
      }),
    );
    return fromSts(answer.Credentials, assertion.roleArn);
  } catch (error) {
    if (error instanceof CliError) throw error;
    return stsFailure(error, assertion.roleArn);
  } finally {
    sts.destroy();
  }
}

/**
 * The JSON `credential_process` prints (AWS CLI / SDK "sourcing credentials with an external
 * process": Version 1, ISO 8601 Expiration so the SDK refreshes before it).
 */
export function credentialProcessOutput(credentials: TemporaryAwsCredentials): string {
  return `${JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: credentials.expiration.toISOString(),
  })}\n`;
}

/** The environment `mai exec` gives its child: credentials only there, never on disk. */
export function credentialEnvironment(credentials: TemporaryAwsCredentials): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_SECURITY_TOKEN: credentials.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: credentials.expiration.toISOString(),
  };
}
