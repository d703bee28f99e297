import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { writeProfileCredentials } from '../aws-credentials-file.js';
import {
  assumeRole,
  credentialEnvironment,
  credentialProcessOutput,
  providerKind,
  stsFailure,
} from './assume-role.js';

const exec = promisify(execFile);
const skip = skipWithoutMoto();

describe('provider kinds', () => {
  it('tells SAML from OIDC providers by the ARN, and refuses anything else in one line', () => {
    expect(providerKind(`arn:aws:iam::${MOTO_ACCOUNT}:saml-provider/Shibboleth`)).toBe('saml');
    expect(providerKind(`arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/stups.example.org`)).toBe('web-identity');
    expect(() => providerKind('arn:aws:iam::1:role/x')).toThrow(
      /is not the ARN of an IAM SAML or OIDC provider/,
    );
  });
});

describe("STS's refusals", () => {
  // moto's STS accepts any role and any assertion, so the refusals real STS sends are built here
  // with the names and messages AWS documents for these operations.
  const refusal = (name: string, message: string) => Object.assign(new Error(message), { name });
  it('says what to check, in one line', () => {
    expect(() =>
      stsFailure(refusal('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithSAML'), 'arn:r'),
    ).toThrow(
      "AWS refused arn:r: Not authorized to perform sts:AssumeRoleWithSAML (is the role's trust policy set up for this provider?)",
    );
    expect(() =>
      stsFailure(
        refusal(
          'ExpiredTokenException',
          'Token expired: current date/time 1 must be before the expiration date/time 0\nmore',
        ),
        'arn:r',
      ),
    ).toThrow(
      /^AWS did not accept the identity provider's assertion for arn:r: Token expired: current date\/time 1 must be before the expiration date\/time 0$/,
    );
    const other = refusal('ThrottlingException', 'slow down');
    expect(() => stsFailure(other, 'arn:r')).toThrow(other);
  });
});

describe.skipIf(skip)('assuming a role with an assertion (moto_server STS)', () => {
  let moto: RunningMoto;
  let roleArn: string;
  let providerArn: string;
  let home: string;
  beforeAll(async () => {
    moto = await startMoto();
    home = await mkdtemp(join(tmpdir(), 'mai-sts-'));
    const iam = new IAMClient(motoClientConfig(moto.endpoint));
    // moto accepts any metadata document and checks no signature: the call shape is what is tested
    // here; the IdP's assertions are checked by an independent SAML library in the IdP's tests.
    providerArn = (
      await iam.send(
        new CreateSAMLProviderCommand({ Name: 'stups', SAMLMetadataDocument: '<EntityDescriptor/>' }),
      )
    ).SAMLProviderArn!;
    roleArn = (
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'PowerUser',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Federated: providerArn },
                Action: 'sts:AssumeRoleWithWebIdentity',
              },
            ],
          }),
        }),
      )
    ).Role!.Arn!;
    iam.destroy();
  });
  /** GetCallerIdentity from a fresh Node process whose environment is only `extra` (plus PATH, HOME). */
  async function callerArn(extra: Record<string, string>): Promise<string> {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: MOTO_REGION,
      ...extra,
    };
    const script = `import('@aws-sdk/client-sts').then(async ({ STSClient, GetCallerIdentityCommand }) => {
      const sts = new STSClient({}); console.log((await sts.send(new GetCallerIdentityCommand({}))).Arn); sts.destroy(); })`;
    const { stdout } = await exec(process.execPath, ['-e', script], { env, cwd: process.cwd() });
    return stdout.trim();
  }
  afterAll(async () => {
    await moto?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('exchanges a web-identity token for credentials the SDK then signs with, from the written profile', async () => {
    const settings = { region: MOTO_REGION, endpoint: moto.endpoint };
    const credentials = await assumeRole(settings, {
      kind: 'web-identity',
      token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqZG9lIn0.c2ln',
      roleArn,
      sessionName: 'jdoe',
    });
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(credentials.expiration.getTime()).toBeGreaterThan(Date.now());

    const file = join(home, 'credentials');
    await writeProfileCredentials(file, 'mai-test', credentials);
    // A separate process with the SDK's default credential chain, as any tool would read the profile.
    const arn = await callerArn({
      AWS_SHARED_CREDENTIALS_FILE: file,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_PROFILE: 'mai-test',
    });
    expect(arn).toBe(`arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/PowerUser/jdoe`);
  });

  it('prints credential_process JSON and an exec environment the AWS CLI conventions expect', async () => {
    const credentials = await assumeRole(
      { region: MOTO_REGION, endpoint: moto.endpoint },
      { kind: 'web-identity', token: 'a.b.c', roleArn, sessionName: 'jdoe' },
    );
    const printed = JSON.parse(credentialProcessOutput(credentials)) as Record<string, unknown>;
    expect(printed).toEqual({
      Version: 1,
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      SessionToken: credentials.sessionToken,
      Expiration: credentials.expiration.toISOString(),
    });
    // A child process signs with only the environment Mai gives it.
    expect(await callerArn(credentialEnvironment(credentials))).toBe(
      `arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/PowerUser/jdoe`,
    );
  });
});
