import {
  CreateKeyPairCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  TAUPAGE_IMAGES,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { AccountClients } from '../aws/account-clients.js';
import { Ec2ImageCatalog } from '../aws/images.js';
import { type CloudTrailRecord, CloudTrailRecordSchema } from '../cloudtrail.js';
import { FolderSource } from '../ingestion.js';
import { RuleSettingsSchema } from '../settings.js';
import * as aws from '../test-support/aws-records.js';
import * as records from '../test-support/cloudtrail-records.js';
import {
  ACCOUNT_B,
  ACCOUNT_C,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../test-support/fullstop-harness.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventRule, RULES, type RuleContext } from './index.js';
import { trustedPrincipals } from './trust-policy.js';

const parse = (r: records.Record): CloudTrailRecord => CloudTrailRecordSchema.parse(r);
const eventRule = (id: string): EventRule => {
  const rule = RULES.find((r) => r.type.id === id);
  if (rule?.kind !== 'event') throw new Error(`no event rule ${id}`);
  return rule;
};

describe('trustedPrincipals', () => {
  it('reads the accounts of Allow statements: ids, ARNs, *, URL-encoded documents', () => {
    const doc = JSON.stringify({
      Statement: [
        {
          Effect: 'Allow',
          Principal: {
            AWS: [
              'arn:aws:iam::111111111111:root',
              '222222222222',
              'arn:aws:sts::333333333333:assumed-role/x/y',
            ],
          },
        },
        { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
        { Effect: 'Deny', Principal: { AWS: '444444444444' } },
      ],
    });
    expect(trustedPrincipals(doc)).toEqual(['111111111111', '222222222222', '333333333333']);
    expect(
      trustedPrincipals(
        encodeURIComponent(JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*' } })),
      ),
    ).toEqual(['*']);
    expect(trustedPrincipals('not json')).toEqual([]);
    // An IAM identity provider names its account; a public one (Cognito) names none.
    expect(
      trustedPrincipals(
        JSON.stringify({
          Statement: [
            { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::777777777777:saml-provider/idp' } },
            { Effect: 'Allow', Principal: { Federated: 'cognito-identity.amazonaws.com' } },
          ],
        }),
      ),
    ).toEqual(['777777777777']);
  });
});

describe.skipIf(skipWithoutMoto())('fullstop AWS event rules', () => {
  let moto: RunningMoto;
  let images: Ec2ImageCatalog;
  let clients: AccountClients;
  const subnets = { internalMapped: '', internal: '', dmz: '' };
  /** Instances in moto's EC2, for StartInstances records that name only their ids. */
  const started = { keyed: '', custom: '', noUserData: '', clean: '', internalPublic: '', dmzPublic: '' };

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    const settings = { region: MOTO_REGION, endpoint: moto.endpoint };
    images = new Ec2ImageCatalog(settings);
    clients = new AccountClients(settings);
    const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc?.VpcId;
    const subnet = async (name: string, cidr: string) =>
      (
        await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpc,
            CidrBlock: cidr,
            AvailabilityZone: `${MOTO_REGION}a`,
            TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: name }] }],
          }),
        )
      ).Subnet?.SubnetId ?? '';
    subnets.internal = await subnet(`internal-${MOTO_REGION}a`, '10.1.128.0/20');
    subnets.internalMapped = await subnet(`internal-${MOTO_REGION}b`, '10.1.144.0/20');
    subnets.dmz = await subnet(`dmz-${MOTO_REGION}a`, '10.1.0.0/21');
    await ec2.send(
      new ModifySubnetAttributeCommand({
        SubnetId: subnets.internalMapped,
        MapPublicIpOnLaunch: { Value: true },
      }),
    );
    await ec2.send(
      new ModifySubnetAttributeCommand({ SubnetId: subnets.dmz, MapPublicIpOnLaunch: { Value: true } }),
    );
    await ec2.send(new CreateKeyPairCommand({ KeyName: 'legacy' }));
    const customAmi =
      (await ec2.send(new RegisterImageCommand({ Name: 'ubuntu-hand-made', RootDeviceName: '/dev/xvda' })))
        .ImageId ?? '';
    const userData = Buffer.from('application_id: order-engine\n').toString('base64');
    const launch = async (o: { imageId?: string; keyName?: string; userData?: boolean; subnetId: string }) =>
      (
        await ec2.send(
          new RunInstancesCommand({
            ImageId: o.imageId ?? TAUPAGE_IMAGES.latest.id,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: o.subnetId,
            ...(o.keyName ? { KeyName: o.keyName } : {}),
            ...(o.userData === false ? {} : { UserData: userData }),
          }),
        )
      ).Instances?.[0]?.InstanceId ?? '';
    started.keyed = await launch({ keyName: 'legacy', subnetId: subnets.internal });
    started.custom = await launch({ imageId: customAmi, subnetId: subnets.internal });
    started.noUserData = await launch({ userData: false, subnetId: subnets.internal });
    started.clean = await launch({ subnetId: subnets.internal });
    // Both subnets map public IPs on launch, so moto gives these two one.
    started.internalPublic = await launch({ subnetId: subnets.internalMapped });
    started.dmzPublic = await launch({ subnetId: subnets.dmz });
    ec2.destroy();
  }, 90_000);
  afterAll(async () => {
    images.dispose();
    clients.dispose();
    vi.unstubAllEnvs();
    await moto.stop();
  });

  describeEachDatabase('with the team service', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
    let h: FullstopHarness;
    let ctx: RuleContext;
    const check = async (id: string, r: records.Record, settings = {}) => {
      const c = { ...ctx, settings: RuleSettingsSchema.parse(settings) };
      return eventRule(id).check(parse(r), MOTO_ACCOUNT, c);
    };

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), images, {}, clients);
      ctx = {
        settings: RuleSettingsSchema.parse({}),
        images,
        applications: h.kio.applications,
        imageTags: h.imageTags,
        accessGrants: h.accessGrants,
        subnets: clients,
        instances: clients,
        accounts: { isPlatformAccount: async (a) => (await h.teams.teamOfAccount(a)) !== undefined },
      };
    });

    it('an AMI EC2 does not know is "cannot see it", not an error that would stop its CloudTrail file', async () => {
      expect(await images.describe(MOTO_ACCOUNT, MOTO_REGION, 'ami-0123456789abcdef0')).toBeUndefined();
      expect(await images.describe(MOTO_ACCOUNT, MOTO_REGION, TAUPAGE_IMAGES.latest.id)).toMatchObject({
        imageId: TAUPAGE_IMAGES.latest.id,
      });
    });

    it('LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION: code not from a trusted bucket', async () => {
      const id = 'LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION';
      const trusted = { lambdaCodeBuckets: ['platform-lambda-code'] };
      expect(
        await check(id, aws.createFunction({ s3Bucket: 'random-bucket', s3Key: 'x.zip' }), trusted),
      ).toEqual([
        {
          type: id,
          metaInfo: {
            function_name: 'my-function',
            s3_bucket: 'random-bucket',
            s3_key: 'x.zip',
            image_uri: null,
          },
        },
      ]);
      expect(await check(id, aws.createFunction({}), trusted)).toHaveLength(1); // an uploaded zip
      expect(await check(id, aws.updateFunctionCode({ s3Bucket: 'elsewhere' }), trusted)).toHaveLength(1);
      expect(await check(id, aws.createFunction({ s3Bucket: 'platform-lambda-code' }), trusted)).toEqual([]);
      expect(await check(id, aws.updateFunctionCode({ s3Bucket: 'platform-lambda-code' }), trusted)).toEqual(
        [],
      );
    });

    it("CLOUDTRAIL_LOGGING_STOPPED: the trail moved to a bucket that is not the platform's, or deleted", async () => {
      const id = 'CLOUDTRAIL_LOGGING_STOPPED';
      const buckets = { cloudtrailBuckets: ['org-cloudtrail'] };
      expect(await check(id, aws.updateTrail({ s3BucketName: 'my-own-bucket' }), buckets)).toEqual([
        {
          type: id,
          metaInfo: { trail_name: 'Default', event_name: 'UpdateTrail', s3_bucket_name: 'my-own-bucket' },
        },
      ]);
      expect(await check(id, records.cloudTrailEvent('DeleteTrail'), buckets)).toHaveLength(1);
      expect(await check(id, aws.updateTrail({ s3BucketName: 'org-cloudtrail' }), buckets)).toEqual([]);
    });

    it('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP: subnets looked up in EC2 by their Name tag', async () => {
      const id = 'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP';
      const asked = aws.runInstancesInSubnet({
        subnetId: subnets.internal,
        associatePublicIp: true,
        instanceId: 'i-00000000000000011',
      });
      expect(await check(id, asked)).toEqual([
        {
          type: id,
          instanceId: 'i-00000000000000011',
          metaInfo: { subnet_id: subnets.internal, subnet_name: `internal-${MOTO_REGION}a`, public_ip: null },
        },
      ]);
      // The subnet maps public IPs on launch and the request did not say otherwise.
      expect(await check(id, aws.runInstancesInSubnet({ subnetId: subnets.internalMapped }))).toHaveLength(1);
      // Not triggering: no public IP in an internal subnet; a public IP in a DMZ subnet.
      expect(await check(id, aws.runInstancesInSubnet({ subnetId: subnets.internal }))).toEqual([]);
      expect(
        await check(
          id,
          aws.runInstancesInSubnet({ subnetId: subnets.internalMapped, associatePublicIp: false }),
        ),
      ).toEqual([]);
      expect(
        await check(id, aws.runInstancesInSubnet({ subnetId: subnets.dmz, associatePublicIp: true })),
      ).toEqual([]);
      // The prefix is a setting: with `private-` the internal-* subnets are not internal.
      expect(await check(id, asked, { internalSubnetNamePrefix: 'private-' })).toEqual([]);
      // A subnet deleted since: nothing to judge.
      expect(
        await check(
          id,
          aws.runInstancesInSubnet({ subnetId: 'subnet-0000000000000dead', associatePublicIp: true }),
        ),
      ).toEqual([]);
    });

    it('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP fails loudly without the subnet look-up', async () => {
      const rule = eventRule('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP');
      const record = parse(aws.runInstancesInSubnet({ subnetId: subnets.internal, associatePublicIp: true }));
      await expect(rule.check(record, MOTO_ACCOUNT, { ...ctx, subnets: undefined })).rejects.toThrow(
        /subnet look-up/,
      );
    });

    describe('StartInstances: a stopped instance started again is judged as EC2 describes it now', () => {
      const start = (id: keyof typeof started, region = MOTO_REGION) =>
        records.startInstances({ instanceIds: [started[id]], region });

      it('WRONG_REGION: from the record alone', async () => {
        const elsewhere = records.startInstances({
          instanceIds: ['i-0000000000000abcd'],
          region: 'us-west-2',
        });
        expect(await check('WRONG_REGION', elsewhere)).toEqual([
          {
            type: 'WRONG_REGION',
            instanceId: 'i-0000000000000abcd',
            metaInfo: { allowed_regions: ['eu-west-1', 'eu-central-1'] },
          },
        ]);
        expect(await check('WRONG_REGION', start('clean'))).toEqual([]);
      });

      it('EC2_WITH_KEYPAIR: the key pair EC2 says it has', async () => {
        expect(await check('EC2_WITH_KEYPAIR', start('keyed'))).toEqual([
          {
            type: 'EC2_WITH_KEYPAIR',
            instanceId: started.keyed,
            metaInfo: { key_name: 'legacy', ami_id: TAUPAGE_IMAGES.latest.id },
          },
        ]);
        expect(await check('EC2_WITH_KEYPAIR', start('clean'))).toEqual([]);
      });

      it('WRONG_AMI: the image it runs, looked up in EC2', async () => {
        expect(await check('WRONG_AMI', start('custom'))).toEqual([
          {
            type: 'WRONG_AMI',
            instanceId: started.custom,
            metaInfo: {
              ami_id: expect.stringMatching(/^ami-/),
              ami_owner_id: MOTO_ACCOUNT,
              ami_name: 'ubuntu-hand-made',
            },
          },
        ]);
        expect(await check('WRONG_AMI', start('clean'))).toEqual([]);
      });

      it('MISSING_USER_DATA: the instance attribute, as STUPS asked it', async () => {
        expect(await check('MISSING_USER_DATA', start('noUserData'))).toEqual([
          {
            type: 'MISSING_USER_DATA',
            instanceId: started.noUserData,
            metaInfo: { ami_id: TAUPAGE_IMAGES.latest.id },
          },
        ]);
        expect(await check('MISSING_USER_DATA', start('clean'))).toEqual([]);
      });

      it('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP: its subnet and public IP now', async () => {
        expect(await check('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP', start('internalPublic'))).toEqual([
          {
            type: 'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP',
            instanceId: started.internalPublic,
            metaInfo: {
              subnet_id: subnets.internalMapped,
              subnet_name: `internal-${MOTO_REGION}b`,
              public_ip: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
            },
          },
        ]);
        // Not triggering: internal without a public IP; a public IP in a DMZ subnet.
        expect(await check('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP', start('clean'))).toEqual([]);
        expect(await check('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP', start('dmzPublic'))).toEqual([]);
      });

      it('an instance EC2 no longer knows is not judged; without the look-up the rules fail loudly', async () => {
        const gone = records.startInstances({ instanceIds: ['i-0000000000000dead'] });
        for (const id of [
          'EC2_WITH_KEYPAIR',
          'WRONG_AMI',
          'MISSING_USER_DATA',
          'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP',
        ])
          expect(await check(id, gone)).toEqual([]);
        await expect(
          eventRule('EC2_WITH_KEYPAIR').check(parse(start('keyed')), MOTO_ACCOUNT, {
            ...ctx,
            instances: undefined,
          }),
        ).rejects.toThrow(/instance look-up/);
      });

      it('ingested: one violation per event and instance, however often the file is replayed', async () => {
        const root = await mkdtemp(join(tmpdir(), 'fullstop-start-'));
        try {
          const launchedAt = records.runInstances({
            instanceIds: [started.keyed],
            keyName: 'legacy',
            eventId: 'evt-run-keyed',
          });
          const restarted = records.startInstances({
            instanceIds: [started.keyed, started.noUserData],
            eventId: 'evt-start',
          });
          await records.writeCloudTrailFile(
            root,
            { account: MOTO_ACCOUNT, region: MOTO_REGION, day: '2026-11-27', name: '20261127T1100Z_start' },
            [launchedAt, restarted],
          );
          const first = await h.fullstop.ingestion.ingestPending(new FolderSource(root), 10);
          expect(first.failed).toEqual([]);
          const replay = await h.fullstop.ingestion.ingestPending(new FolderSource(`${root}/.`), 10);
          expect(replay.files.map((f) => [f.ingested, f.violations])).toEqual([[true, 0]]);
          const page = (
            await h.app.inject({
              url: `/api/violations?accounts=${MOTO_ACCOUNT}&type=EC2_WITH_KEYPAIR,MISSING_USER_DATA&size=20`,
              headers: await h.as('jdoe'),
            })
          ).json();
          expect(
            page.content
              .map((v: { event_id: string; instance_id: string; violation_type: { id: string } }) =>
                [v.event_id, v.instance_id, v.violation_type.id].join(' '),
              )
              .sort(),
          ).toEqual(
            [
              `evt-run-keyed ${started.keyed} EC2_WITH_KEYPAIR`,
              `evt-start ${started.keyed} EC2_WITH_KEYPAIR`,
              `evt-start ${started.noUserData} MISSING_USER_DATA`,
            ].sort(),
          );
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      });
    });

    it('CROSS_ACCOUNT_ROLE: a trust policy naming an account outside the team service', async () => {
      const id = 'CROSS_ACCOUNT_ROLE';
      const foreign = aws.createRole({
        roleName: 'partner-access',
        principal: { AWS: `arn:aws:iam::${ACCOUNT_C}:root` },
      });
      const found = await check(id, foreign);
      expect(found).toEqual([
        {
          type: id,
          instanceId: expect.stringMatching(/^AROA/),
          metaInfo: {
            role_arn: `arn:aws:iam::${MOTO_ACCOUNT}:role/partner-access`,
            role_name: 'partner-access',
            grantees: [ACCOUNT_C],
          },
        },
      ]);
      expect(await check(id, aws.updateAssumeRolePolicy({ roleName: 'x', principal: '*' }))).toEqual([
        expect.objectContaining({ metaInfo: { role_arn: null, role_name: 'x', grantees: ['*'] } }),
      ]);
      // Not triggering: another team's account, the own account, a service, a trusted account.
      expect(await check(id, aws.createRole({ roleName: 'b', principal: { AWS: ACCOUNT_B } }))).toEqual([]);
      expect(
        await check(
          id,
          aws.createRole({
            roleName: 'own',
            principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT}:role/deployer` },
          }),
        ),
      ).toEqual([]);
      expect(
        await check(id, aws.createRole({ roleName: 'svc', principal: { Service: 'lambda.amazonaws.com' } })),
      ).toEqual([]);
      expect(await check(id, foreign, { trustedAccounts: [ACCOUNT_C] })).toEqual([]);
    });

    it('the ingestion pipeline wires the team service into CROSS_ACCOUNT_ROLE', async () => {
      const root = await mkdtemp(join(tmpdir(), 'fullstop-aws-rules-'));
      try {
        await records.writeCloudTrailFile(
          root,
          { account: MOTO_ACCOUNT, region: 'us-east-1', day: '2026-11-27', name: '20261127T1000Z_roles' },
          [
            aws.createRole({ roleName: 'partner-access', principal: { AWS: ACCOUNT_C } }),
            aws.createRole({ roleName: 'team-b-access', principal: { AWS: ACCOUNT_B } }),
          ],
        );
        const outcome = await h.fullstop.ingestion.ingestPending(new FolderSource(root), 10);
        expect(outcome.failed).toEqual([]);
        expect(outcome.files.map((f) => f.violations)).toEqual([1]);
        const page = (
          await h.app.inject({
            url: `/api/violations?accounts=${MOTO_ACCOUNT}&type=CROSS_ACCOUNT_ROLE`,
            headers: await h.as('jdoe'),
          })
        ).json();
        expect(page.content.map((v: { meta_info: { role_name: string } }) => v.meta_info.role_name)).toEqual([
          'partner-access',
        ]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});
