import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOTO_REGION,
  motoEnv,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { awsSettingsFromEnv } from '../../platform/aws/client-config.js';
import { type ConfigProblems, loadConfig } from '../config.js';
import type { AccountConfig, AccountReport } from '../contract.js';
import { convergeAccounts } from '../converge.js';
import { credentialsFromEnv, standardLogin } from '../aws/login.js';
import { trailBucketStatements, withTrailBucketPolicies } from '../resources/cloudtrail.js';
import { motoAccountConfig, runSevenseconds } from '../test-support/run-sevenseconds.js';
import { accountId, structureYaml, teamName } from '../test-support/structure.js';

const TEAMS = 3;
const FIRST = 500000000000;
const ids = Array.from({ length: TEAMS + 2 }, (_, i) => accountId(FIRST, i));
const BUCKET = 'exampleorg-cloudtrail';

/** Every account trails into one central bucket, which the `state` account makes. */
function centralYaml(teams = TEAMS): string {
  return structureYaml({
    teams,
    firstId: FIRST,
    endpointRegion: MOTO_REGION,
    extraGlobal: `  cloudtrail:\n    s3_bucket_name: ${BUCKET}\n    s3_key_prefix: exampleorg\n    home_region: ${MOTO_REGION}\n`,
  }).replace(
    `  state:\n    id: '${ids[0]}'\n`,
    `  state:\n    id: '${ids[0]}'\n    s3_buckets:\n      trail: {name: ${BUCKET}, regions: [${MOTO_REGION}]}\n`,
  );
}

/** The policy the central bucket must end up with for the accounts `ids`. */
function expectedPolicy(accountIds: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:aws:s3:::${BUCKET}`,
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: accountIds.map((id) => `arn:aws:s3:::${BUCKET}/exampleorg/AWSLogs/${id}/*`),
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
    ],
  };
}

describe('the central CloudTrail bucket policy (computed from the file, no AWS)', () => {
  const { accounts } = loadConfig(centralYaml());
  it('lets every account of the file write under its own AWSLogs/<id>/, and keeps the file’s own statements', () => {
    const completed = withTrailBucketPolicies(accounts);
    expect(completed.find((a) => a.name === 'state')!.s3_buckets!.trail!.policy).toEqual(
      expectedPolicy(ids.slice(0, TEAMS + 1)),
    );
    // Accounts not making the bucket are left as they are.
    expect(completed.find((a) => a.name === teamName(1))).toBe(accounts.find((a) => a.name === teamName(1)));

    const own = loadConfig(
      centralYaml().replace(
        `trail: {name: ${BUCKET}, regions: [${MOTO_REGION}]}`,
        `trail: {name: ${BUCKET}, regions: [${MOTO_REGION}], policy: {Statement: {Sid: Deny, Effect: Deny, Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::${BUCKET}/*'}}}`,
      ),
    ).accounts;
    const statements = withTrailBucketPolicies(own).find((a) => a.name === 'state')!.s3_buckets!.trail!
      .policy!.Statement as { Sid: string }[];
    expect(statements.map((s) => s.Sid)).toEqual(['Deny', 'AWSCloudTrailAclCheck', 'AWSCloudTrailWrite']);
  });

  it('an account with enable_cloudtrail: false or another bucket is not in the policy', () => {
    const off = accounts.map((a): AccountConfig =>
      a.name === teamName(2)
        ? { ...a, enable_cloudtrail: false }
        : a.name === teamName(3)
          ? { ...a, cloudtrail: { ...a.cloudtrail!, s3_bucket_name: 'elsewhere' } }
          : a,
    );
    const write = trailBucketStatements(BUCKET, off)[1]!;
    expect(write.Resource).toEqual(
      [ids[0], ids[1]].map((id) => `arn:aws:s3:::${BUCKET}/exampleorg/AWSLogs/${id}/*`),
    );
    expect(trailBucketStatements('nobody-writes-here', accounts)).toEqual([]);
  });

  it('refuses, as a problem of the file, an entry making several buckets and a policy over S3’s 20 KiB', () => {
    const regions = loadConfig(
      centralYaml()
        .replace(`s3_bucket_name: ${BUCKET}`, `s3_bucket_name: ${BUCKET}-eu-west-1`)
        .replace(
          `trail: {name: ${BUCKET}, regions: [${MOTO_REGION}]}`,
          `trail: {name: '${BUCKET}-{region}', regions: [eu-west-1, eu-central-1]}`,
        ),
    ).accounts;
    expect(() => withTrailBucketPolicies(regions)).toThrow(
      `accounts.state.s3_buckets.trail: ${BUCKET}-eu-west-1 receives CloudTrail logs, so this entry must make that one bucket (one region, or a name without {region})`,
    );
    const many = loadConfig(centralYaml(400)).accounts;
    let problems: string[] = [];
    try {
      withTrailBucketPolicies(many);
    } catch (error) {
      problems = (error as ConfigProblems).problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(
        /^accounts\.state\.s3_buckets\.trail: the bucket policy letting every account's trail write is \d+ bytes, over S3's limit of 20480; give groups of accounts a bucket each$/,
      ),
    ]);
  });
});

describe.skipIf(skipWithoutMoto())('the central CloudTrail bucket on moto_server', () => {
  let moto: RunningMoto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const sevenseconds = (args: string[], yaml = centralYaml()) => runSevenseconds(moto.endpoint, args, yaml);
  const changesOf = (out: string) => (JSON.parse(out) as AccountReport[]).flatMap((r) => r.changes);
  const policyNow = async () => {
    const s3 = new S3Client({ ...(await motoAccountConfig(moto.endpoint, ids[0]!)), forcePathStyle: true });
    const text = (await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy;
    s3.destroy();
    return JSON.parse(text ?? '{}') as unknown;
  };

  it('plan: the bucket with its policy, then the state account’s own trail into it; teams trail there too', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.changing).toEqual([]);
    const changes = changesOf(r.out);
    const state = changes.filter((c) => c.account === 'state').map((c) => c.resource);
    expect(state).toContain(`s3-bucket/${BUCKET}`);
    expect(state.indexOf('cloudtrail/Default')).toBeGreaterThan(state.indexOf(`s3-bucket/${BUCKET}`));
    expect(
      changes.find((c) => c.account === teamName(2) && c.resource === 'cloudtrail/Default')?.detail,
    ).toBe(`multi-region trail in ${MOTO_REGION} to s3://${BUCKET}/exampleorg`);
  }, 60_000);

  // moto refuses a trail whose bucket is in another account (AWS does not), so the team accounts'
  // trails cannot be made here; configuring the bucket's account alone is what this proves: its
  // policy covers every account of the file, selected or not.
  it('configure of the bucket’s account alone: the policy lets every account of the file write; again = 0 changes', async () => {
    const r = await sevenseconds(['configure', 'accounts.yaml', 'state']);
    expect(r.code).toBe(0);
    expect(await policyNow()).toEqual(expectedPolicy(ids.slice(0, TEAMS + 1)));
    // Its own trail was made after the bucket (CloudTrail would refuse a missing bucket).
    const cloudtrail = new CloudTrailClient(await motoAccountConfig(moto.endpoint, ids[0]!));
    const trail = (await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: ['Default'] })))
      .trailList?.[0];
    cloudtrail.destroy();
    expect(trail).toMatchObject({ S3BucketName: BUCKET, S3KeyPrefix: 'exampleorg' });

    const plan = await sevenseconds(['plan', 'accounts.yaml', 'state']);
    expect(plan.out).toContain('1 account: 0 with changes, 1 unchanged, 0 failed');
    const again = await sevenseconds(['configure', 'accounts.yaml', 'state']);
    expect(again.out).toContain('1 account: 0 changed, 1 unchanged, 0 failed');
    expect(again.changing).toEqual([]);
  }, 120_000);

  it('one more account in the file is one change: the bucket policy, put once', async () => {
    const grown = centralYaml(TEAMS + 1);
    const plan = await sevenseconds(['plan', 'accounts.yaml', 'state', '-o', 'json'], grown);
    expect(changesOf(plan.out)).toEqual([
      {
        account: 'state',
        resource: `s3-bucket/${BUCKET}`,
        action: 'update',
        detail: 'bucket policy differs',
      },
    ]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', 'state'], grown);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([`${ids[0]} PutBucketPolicy`]);
    expect(await policyNow()).toEqual(expectedPolicy(ids));
  }, 60_000);

  it('configure converges the bucket’s account before any other account starts', async () => {
    const env = motoEnv(moto.endpoint);
    const login = await standardLogin(awsSettingsFromEnv(env), credentialsFromEnv(env));
    const { accounts } = loadConfig(centralYaml());
    const events: string[] = [];
    // Reversed, so file order alone would start the state account last.
    await convergeAccounts([...accounts].reverse(), {
      mode: 'configure',
      login,
      concurrency: 4,
      modules: [],
      onProgress: (account, event) => events.push(`${account} ${event}`),
    });
    expect(events.slice(0, 2)).toEqual(['state start', 'state unchanged']);
    expect(events.filter((e) => e.endsWith('start'))).toHaveLength(TEAMS + 1);
  }, 60_000);
});
