import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningMoto,
  motoClientConfig,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../senza/test-support/moto.js';
import { parseSandboxConfig, resolveAccountSettings, SandboxConfigError } from './config.js';
import { listOrganizationAccounts } from './aws/organizations.js';
import { prepareAccount } from './aws/prepare.js';
import { purgeAccount, type PurgeClients } from './aws/purge.js';
import { SandboxLifecycle, type SandboxEventSink } from './lifecycle.js';

const skip = skipWithoutMoto();

/** Records every command a client sends, to prove a dry run sends no changing call. */
function record<T extends { middlewareStack: { add: (...args: never[]) => void } }>(
  client: T,
  calls: string[],
): T {
  (client.middlewareStack as unknown as { add: (mw: unknown, opts: unknown) => void }).add(
    (next: (a: unknown) => unknown, context: { commandName?: string }) => (args: unknown) => {
      calls.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  return client;
}
const READ_ONLY = /^(Describe|List|Get)/;

describe('sandbox settings file', () => {
  it('reports every problem at once as path: message', () => {
    let error: unknown;
    try {
      parseSandboxConfig({
        defaults: { maintenance_window: 'not a cron', purge_mode: 'maybe' },
        accounts: { '12': { regions: ['nowhere'] } },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SandboxConfigError);
    const problems = (error as SandboxConfigError).problems;
    expect(problems.some((p) => p.startsWith('defaults.maintenance_window: must be a cron'))).toBe(true);
    expect(problems.some((p) => p.startsWith('defaults.purge_mode:'))).toBe(true);
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });
});

describe.skipIf(skip)('sandbox on moto_server', () => {
  let moto: RunningMoto;
  let org: OrganizationsClient;
  const accountIds: string[] = [];
  beforeAll(async () => {
    moto = await startMoto();
    org = new OrganizationsClient(motoClientConfig(moto.endpoint));
    await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const ous = [];
    for (const name of ['engineering', 'data']) {
      ous.push(
        (await org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: name })))
          .OrganizationalUnit!,
      );
    }
    for (let i = 0; i < 10; i++) {
      const created = await org.send(
        new CreateAccountCommand({ AccountName: `sandbox-${i}`, Email: `sandbox-${i}@example.org` }),
      );
      const id = created.CreateAccountStatus!.AccountId!;
      accountIds.push(id);
      await org.send(
        new MoveAccountCommand({
          AccountId: id,
          SourceParentId: rootId,
          DestinationParentId: ous[i % 2]!.Id!,
        }),
      );
      const state = i < 3 ? 'released' : i < 6 ? 'assigned' : 'vanilla';
      await org.send(
        new TagResourceCommand({ ResourceId: id, Tags: [{ Key: 'account-state', Value: state }] }),
      );
    }
  }, 60_000);
  afterAll(async () => moto?.stop());

  const clients = (calls: string[]): PurgeClients => ({
    regional: (region) => ({
      ec2: record(new EC2Client({ ...motoClientConfig(moto.endpoint), region }), calls),
      elb: record(new ElasticLoadBalancingV2Client({ ...motoClientConfig(moto.endpoint), region }), calls),
    }),
    iam: record(new IAMClient(motoClientConfig(moto.endpoint)), calls),
    s3: record(new S3Client({ ...motoClientConfig(moto.endpoint), forcePathStyle: true }), calls),
  });

  it('reads 10 accounts in their OUs with the state from the account-state tag', async () => {
    const ours = (await listOrganizationAccounts(org)).filter((a) => accountIds.includes(a.id));
    expect(ours).toHaveLength(10);
    expect(ours.filter((a) => a.state === 'released')).toHaveLength(3);
    expect(ours.filter((a) => a.state === 'vanilla')).toHaveLength(4);
    expect(new Set(ours.map((a) => a.organizational_unit_name))).toEqual(new Set(['engineering', 'data']));
  });

  it('purges resources of several kinds in dependency order; the dry run changes nothing; keep tag survives', async () => {
    const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
    const s3 = new S3Client({ ...motoClientConfig(moto.endpoint), forcePathStyle: true });
    const iam = new IAMClient(motoClientConfig(moto.endpoint));
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.9.1.0/24' }))).Subnet!
      .SubnetId!;
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web', VpcId: vpc }));
    await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }));
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    await ec2.send(
      new RunInstancesCommand({
        ImageId: TAUPAGE_IMAGES.latest.id,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet,
      }),
    );
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'scratch',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'scratch', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'a', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'a', Body: '2' }));
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'precious',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket: 'precious',
        Tagging: { TagSet: [{ Key: 'sandbox:keep', Value: 'true' }] },
      }),
    );
    await iam.send(new CreateRoleCommand({ RoleName: 'leftover', AssumeRolePolicyDocument: '{}' }));
    const options = {
      regions: ['eu-west-1'],
      keepTag: { key: 'sandbox:keep', value: 'true' },
      baselineRoles: ['sandbox-holder'],
    };

    const dryCalls: string[] = [];
    const dry = await purgeAccount(clients(dryCalls), { ...options, dryRun: true });
    expect(dryCalls.filter((c) => !READ_ONLY.test(c))).toEqual([]);
    const kinds = dry.deleted.map((d) => d.kind);
    for (const kind of [
      'ec2:instance',
      'ec2:security-group',
      'ec2:subnet',
      'ec2:route-table',
      'ec2:internet-gateway',
      'ec2:vpc',
      's3:bucket',
      'iam:role',
    ])
      expect(kinds, kind).toContain(kind);
    expect(kinds.indexOf('ec2:instance')).toBeLessThan(kinds.indexOf('ec2:vpc'));
    expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc] }))).Vpcs).toHaveLength(1);

    const calls: string[] = [];
    const done = await purgeAccount(clients(calls), { ...options, dryRun: false });
    expect(done.errors).toEqual([]);
    const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    expect(vpcs.filter((v) => !v.IsDefault)).toEqual([]);
    const instances = ((await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap(
      (r) => r.Instances ?? [],
    );
    expect(instances.every((i) => i.State?.Name === 'terminated')).toBe(true);
    expect(((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name)).toEqual([
      'precious',
    ]);
    expect(((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName)).not.toContain(
      'leftover',
    );
  }, 60_000);

  it('a maintenance window moves released accounts through expired, purged, prepared back to released', async () => {
    const events: { accountId: string; kind: string }[] = [];
    const sink: SandboxEventSink = {
      record: async (e) => void events.push({ accountId: e.accountId, kind: e.kind }),
    };
    const config = parseSandboxConfig({
      defaults: { maintenance_window: '0 18 * * 5', budget: { amount: 100 }, tags: { owner: 'sandbox' } },
    });
    let now = new Date('2026-11-27T17:59:00Z'); // a Friday, one minute before the default window
    const budgets = new BudgetsClient({ ...motoClientConfig(moto.endpoint), region: 'us-east-1' });
    const lifecycle = new SandboxLifecycle({
      org,
      config: async () =>
        parseSandboxConfig({ defaults: { maintenance_window: '0 18 * * 5', budget: { amount: 100 } } }),
      events: sink,
      now: () => now,
      purge: (_account, options) => purgeAccount(clients([]), options),
      prepare: (account) =>
        prepareAccount(
          { budgets, iam: new IAMClient(motoClientConfig(moto.endpoint)) },
          account.id,
          resolveAccountSettings(config, account),
        ),
    });
    const before = new Date(now);
    expect(await lifecycle.maintain(new Date(before.getTime() - 60_000))).toEqual([]);
    now = new Date('2026-11-27T18:01:00Z');
    const outcome = await lifecycle.maintain(before);
    const released = accountIds.slice(0, 3);
    // Accounts are maintained in the order Organizations lists them, which is not the creation order.
    const byId = (a: { accountId: string }, b: { accountId: string }) =>
      a.accountId.localeCompare(b.accountId);
    expect(outcome.filter((o) => released.includes(o.accountId)).sort(byId)).toEqual(
      released.map((accountId) => ({ accountId, reached: 'released' })).sort(byId),
    );
    for (const id of released)
      expect(events.filter((e) => e.accountId === id).map((e) => e.kind)).toEqual([
        'ExpiredAccount',
        'PurgedAccount',
        'PreparedAccount',
        'ReleasedAccount',
      ]);
    const after = await lifecycle.list({ state: 'released' });
    expect(
      after
        .map((a) => a.id)
        .filter((id) => released.includes(id))
        .sort(),
    ).toEqual([...released].sort());
    expect(after.find((a) => a.id === released[0])!.state_timestamps.prepared).toBe(now.toISOString());
    const budget = await budgets.send(new DescribeBudgetsCommand({ AccountId: released[0] }));
    expect(budget.Budgets?.map((b) => [b.BudgetName, b.BudgetLimit?.Amount])).toEqual([
      ['sandbox-monthly', '100'],
    ]);
  }, 60_000);
});
