import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { accountClientFactory, serviceOf } from './account-clients.js';
import { AssumeRoleError, assumedRoleCredentials, credentialsFromSts } from './sts-credentials.js';

describe('STS credentials as SDK credentials', () => {
  const answer = {
    AccessKeyId: 'ASIAEXAMPLE',
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date('2030-01-01T00:00:00Z'),
  };
  it('converts a complete answer', () => {
    expect(credentialsFromSts(answer)).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date('2030-01-01T00:00:00Z'),
    });
  });
  it('gives nothing for an answer missing a part, so the caller says so', () => {
    expect(credentialsFromSts(undefined)).toBeUndefined();
    expect(credentialsFromSts({ ...answer, SessionToken: undefined })).toBeUndefined();
    expect(credentialsFromSts({ ...answer, Expiration: undefined })).toBeUndefined();
  });
});

describe('client factory per account', () => {
  const settings = { region: MOTO_REGION, endpoint: 'http://127.0.0.1:9' };
  it('makes one client per class and region, S3 path-style behind an endpoint, and shows each once', async () => {
    const seen: string[] = [];
    const factory = accountClientFactory(settings, {
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      onClient: (_client, service, region) => seen.push(`${service}/${region}`),
    });
    const ec2 = factory.client(EC2Client, 'eu-west-1');
    expect(factory.client(EC2Client, 'eu-west-1')).toBe(ec2);
    expect(factory.client(EC2Client, 'eu-central-1')).not.toBe(ec2);
    const s3 = factory.client(S3Client, 'eu-west-1');
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await s3.config.region()).toBe('eu-west-1');
    expect(await ec2.config.credentials()).toMatchObject({ accessKeyId: 'a' });
    expect(seen).toEqual(['ec2/eu-west-1', 'ec2/eu-central-1', 's3/eu-west-1']);
    factory.destroy();
    expect(factory.client(EC2Client, 'eu-west-1')).not.toBe(ec2);
    factory.destroy();
  });
  it('names services as the SDK classes do', () => {
    expect([S3Client, EC2Client, STSClient].map(serviceOf)).toEqual(['s3', 'ec2', 'sts']);
  });
});

describe.skipIf(skipWithoutMoto())('an assumed role across accounts on moto_server', () => {
  let moto: RunningMoto;
  let sts: STSClient;
  let assumeCalls = 0;
  const TARGET = '210987654321';
  const role = `arn:aws:iam::${TARGET}:role/OrganizationAccountAccessRole`;
  beforeAll(async () => {
    moto = await startMoto();
    sts = new STSClient(motoClientConfig(moto.endpoint));
    sts.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'AssumeRoleCommand') assumeCalls++;
        return next(args);
      },
      { step: 'initialize', name: 'countAssumeRole' },
    );
  });
  afterAll(async () => {
    sts?.destroy();
    await moto?.stop();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('acts in the role’s account; concurrent first uses share one AssumeRole; renews near expiry', async () => {
    const credentials = assumedRoleCredentials(sts, role, 'test');
    const factory = accountClientFactory({ region: MOTO_REGION, endpoint: moto.endpoint }, { credentials });
    const before = assumeCalls;
    const [a, b] = await Promise.all([credentials(), credentials()]);
    expect(a).toBe(b);
    expect(assumeCalls - before).toBe(1);
    const me = await factory.client(STSClient, MOTO_REGION).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(TARGET);
    expect(assumeCalls - before).toBe(1);

    // Four minutes before the hour STS gave runs out, the next use assumes the role again.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(a.expiration.getTime() - 4 * 60_000);
    const renewed = await credentials();
    expect(assumeCalls - before).toBe(2);
    expect(renewed.expiration.getTime()).toBeGreaterThan(a.expiration.getTime());
    factory.destroy();
  });

  it('says in one line which role could not be assumed, and tries again on the next use', async () => {
    // moto assumes any role ARN it is given; an STS nobody answers is the refusal it can show.
    const closed = new STSClient({ ...motoClientConfig('http://127.0.0.1:9'), maxAttempts: 1 });
    let attempts = 0;
    closed.middlewareStack.add(
      (next) => (args) => {
        attempts++;
        return next(args);
      },
      { step: 'initialize', name: 'countAttempts' },
    );
    const credentials = assumedRoleCredentials(closed, role, 'test');
    const error = await credentials().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssumeRoleError);
    expect((error as Error).message).toMatch(
      /^cannot assume arn:aws:iam::210987654321:role\/OrganizationAccountAccessRole: [^\n]+$/,
    );
    await expect(credentials()).rejects.toThrow(AssumeRoleError);
    expect(attempts).toBe(2);
    closed.destroy();
  });
});
