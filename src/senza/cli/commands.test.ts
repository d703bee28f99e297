import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoScalingClient,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationServiceException,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStacksCommand,
  type StackSummary,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  GetConsoleOutputCommand,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateRoleCommand,
  GetRoleCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../platform/cli/run-cli.js';
import { captureIo } from '../../platform/test-support/cli-io.js';
import { SenzaAws } from '../aws/senza-aws.js';
import { mockAws, stupsAccount } from '../test-support/aws-mocks.js';
import { cfnLintErrors } from '../test-support/cfn-lint.js';
import { senzaProgram } from './main.js';

const aws = mockAws();
afterAll(() => aws.restore());
const NOW = new Date('2026-03-01T12:00:00Z');
let sleeps = 0;

beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
  sleeps = 0;
});

const TESTDATA = join(import.meta.dirname, '..', 'testdata');

/** Every template Senza produced in these tests, by test name; cfn-lint checks them in one run. */
const produced = new Map<string, unknown>();
afterAll(async () => {
  expect(await cfnLintErrors(produced)).toEqual([]);
}, 120_000);

async function senza(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1', ...options.env } });
  io.cwd = options.cwd ?? TESTDATA;
  const deps = {
    io,
    now: () => NOW,
    sleep: async () => {
      sleeps++;
    },
    watchLimit: 2,
    // `status` GETs version domains; the example domains of these tests are not reachable.
    fetch: async () => {
      throw new TypeError('fetch failed');
    },
  };
  const code = await runCli(senzaProgram(deps), args, io);
  await io.cleanup();
  return { code, out: io.out(), err: io.err() };
}

const summary = (name: string, status = 'CREATE_COMPLETE', minutesAgo = 10): StackSummary => ({
  StackName: name,
  StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/id`,
  StackStatus: status as StackSummary['StackStatus'],
  CreationTime: new Date(NOW.getTime() - minutesAgo * 60_000),
  TemplateDescription: `${name} description`,
});

function stacks(...list: StackSummary[]) {
  aws.cf.on(ListStacksCommand).resolves({ StackSummaries: list });
}

function sent<T>(mock: { commandCalls: (c: T) => { args: [{ input: unknown }] }[] }, command: T) {
  return mock.commandCalls(command).map((c) => c.args[0].input);
}

describe('create, update, delete and wait', () => {
  afterEach(() => {
    const bodies = [...sent(aws.cf, CreateStackCommand), ...sent(aws.cf, UpdateStackCommand)].map(
      (i) => (i as { TemplateBody: string }).TemplateBody,
    );
    bodies.forEach((body, n) => produced.set(`${expect.getState().currentTestName} #${n}`, JSON.parse(body)));
  });

  it('creates a stack with parameters from the command line and a parameter file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senza-'));
    await writeFile(join(dir, 'params.yaml'), 'MintBucket: file-bucket\nGreetingText: "a=b"\n');
    await writeFile(join(dir, 'hello.yaml'), await readFile(join(TESTDATA, 'hello-world.yaml')));
    aws.cf.on(CreateStackCommand).resolves({ StackId: 'id' });
    const r = await senza(
      [
        'create',
        '--parameter-file',
        'params.yaml',
        '--disable-rollback',
        'hello.yaml',
        '3',
        'hello-world',
        'ImageVersion=1.0',
      ],
      { cwd: dir },
    );
    await rm(dir, { recursive: true });
    expect(r.err).toBe(
      'Generating Cloud Formation template.. OK\nCreating Cloud Formation stack hello-world-3.. OK\n',
    );
    expect(r.code).toBe(0);
    const [input] = sent(aws.cf, CreateStackCommand) as [Record<string, unknown>];
    expect(input).toMatchObject({
      StackName: 'hello-world-3',
      DisableRollback: true,
      Capabilities: ['CAPABILITY_IAM'],
      Parameters: [
        { ParameterKey: 'ApplicationId', ParameterValue: 'hello-world' },
        { ParameterKey: 'ImageVersion', ParameterValue: '1.0' },
        { ParameterKey: 'MintBucket', ParameterValue: 'file-bucket' },
        { ParameterKey: 'GreetingText', ParameterValue: 'a=b' },
      ],
    });
    expect(input.Tags).toContainEqual({ Key: 'StackVersion', Value: '3' });
  });

  it('reports parameter errors as documented (usage errors, exit code 2)', async () => {
    const missing = await senza(['create', 'hello-world.yaml', '3']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(
      'senza: Missing parameter "ApplicationId". Need: "ApplicationId ImageVersion MintBucket GreetingText"\n',
    );
    const after = await senza(['print', 'hello-world.yaml', '3', 'ImageVersion=1', 'app']);
    expect(after.err).toContain('senza: Positional parameters must not follow keywords.\n');
    const unknown = await senza(['print', 'hello-world.yaml', '3', 'Nope=1']);
    expect(unknown.err).toContain('senza: Unrecognized keyword parameter: "Nope"\n');
    const twice = await senza(['print', 'hello-world.yaml', '3', 'app', 'ApplicationId=x']);
    expect(twice.err).toContain('senza: Parameter specified multiple times: "ApplicationId"\n');
    const many = await senza(['print', 'hello-world.yaml', '3', 'a', 'b', 'c', 'd', 'e']);
    expect(many.err).toContain(
      'senza: Too many parameters given. Need only: "ApplicationId ImageVersion MintBucket GreetingText"\n',
    );
    const badVersion = await senza(['print', 'hello-world.yaml', 'v_1', 'a', 'b', 'c']);
    expect(badVersion.code).toBe(2);
  });

  it('shows a CloudFormation ValidationError as one line', async () => {
    aws.cf.on(CreateStackCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: {},
        message: "Parameter 'GreetingText' must contain at most 15 characters",
      }),
    );
    const r = await senza([
      'create',
      'hello-world.yaml',
      '3',
      'hello-world',
      '1.0',
      'bucket',
      'Way too long greeting',
    ]);
    expect(r.code).toBe(1);
    expect(r.err.split('\n').at(-2)).toBe(
      "senza: AWS CloudFormation CreateStack failed: ValidationError: Parameter 'GreetingText' must contain at most 15 characters",
    );
  });

  it('refuses an existing stack, dry-runs without calling CreateStack', async () => {
    aws.cf.on(CreateStackCommand).rejects(
      new CloudFormationServiceException({
        name: 'AlreadyExistsException',
        $fault: 'client',
        $metadata: {},
        message: 'exists',
      }),
    );
    const r = await senza(['create', 'minimal-sqs.yaml', '1']);
    expect(r.err).toContain('senza: Stack example-1 already exists. Please choose another version.\n');
    aws.cf.reset();
    const dry = await senza(['create', '--dry-run', 'minimal-sqs.yaml', '1']);
    expect(dry.err).toContain('Creating Cloud Formation stack example-1.. DRY-RUN\n');
    expect(sent(aws.cf, CreateStackCommand)).toHaveLength(0);
  });

  it('create --wait streams events and exits 1 on ROLLBACK_COMPLETE', async () => {
    aws.cf.on(CreateStackCommand).resolves({ StackId: 'id' });
    aws.cf
      .on(ListStacksCommand)
      .resolvesOnce({ StackSummaries: [summary('example-1', 'CREATE_IN_PROGRESS')] })
      .resolves({ StackSummaries: [summary('example-1', 'ROLLBACK_COMPLETE')] });
    aws.cf.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          EventId: 'e2',
          StackId: 'id',
          StackName: 'example-1',
          Timestamp: NOW,
          LogicalResourceId: 'MyQueue',
          ResourceType: 'AWS::SQS::Queue',
          ResourceStatus: 'CREATE_FAILED',
          ResourceStatusReason: 'Access denied',
        },
        {
          EventId: 'e1',
          StackId: 'id',
          StackName: 'example-1',
          Timestamp: NOW,
          LogicalResourceId: 'example-1',
          ResourceType: 'AWS::CloudFormation::Stack',
          ResourceStatus: 'CREATE_IN_PROGRESS',
          ResourceStatusReason: 'User Initiated',
        },
      ],
    });
    const r = await senza(['create', '--wait', 'minimal-sqs.yaml', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'example-1 AWS::CloudFormation::Stack example-1 CREATE_IN_PROGRESS User Initiated\n',
    );
    expect(r.err).toContain('ERROR: MyQueue CREATE_FAILED: Access denied\n');
    expect(r.err).toContain('senza: ERROR: Stack example-1 has status ROLLBACK_COMPLETE\n');
    expect(sleeps).toBe(1);
  });

  it('wait succeeds on CREATE_COMPLETE and waits for deletion with -d', async () => {
    aws.cf
      .on(ListStacksCommand)
      .resolvesOnce({ StackSummaries: [summary('myapp-1', 'CREATE_IN_PROGRESS')] })
      .resolves({ StackSummaries: [summary('myapp-1', 'CREATE_COMPLETE')] });
    aws.cf.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    const ok = await senza(['wait', 'webapp.yaml', '1']);
    expect(ok.code).toBe(0);
    expect(ok.err).toContain('Waiting up to 1800 more secs for stack myapp-1 (CREATE_IN_PROGRESS)..\n');
    expect(ok.err).toContain('OK: Stack(s) myapp-1 created successfully.\n');
    stacks(summary('myapp-1', 'DELETE_COMPLETE'));
    const deleted = await senza(['wait', '-d', 'myapp', '1']);
    expect(deleted.err).toBe('OK: Stack(s) myapp-1 deleted successfully.\n');
    stacks(summary('myapp-1', 'UPDATE_ROLLBACK_COMPLETE'));
    expect((await senza(['wait', 'myapp', '1'])).code).toBe(1);
    stacks();
    expect((await senza(['wait', 'myapp', '1'])).err).toBe('senza: No matching stack for "myapp 1" found\n');
  });

  it('updates a stack and says when there is nothing to update', async () => {
    aws.cf.on(UpdateStackCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: {},
        message: 'No updates are to be performed.',
      }),
    );
    const r = await senza(['update', 'minimal-sqs.yaml', '1']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('Updating Cloud Formation stack example-1.. (no changes) OK\n');
  });

  it('deletes one stack, refuses several or one with traffic without --force', async () => {
    stacks(summary('myapp-1'), summary('myapp-2'));
    aws.cf.on(DescribeStackResourcesCommand).resolves({ StackResources: [] });
    const several = await senza(['delete', 'myapp']);
    expect(several.err).toBe(
      'senza: 2 matching stacks found. Please use the "--force" flag if you really want to delete multiple stacks.\n',
    );
    const one = await senza(['del', 'myapp', '1']);
    expect(one.err).toBe('Deleting Cloud Formation stack myapp-1.. OK\n');
    expect(sent(aws.cf, DeleteStackCommand)).toEqual([{ StackName: 'myapp-1' }]);
    aws.cf.on(DescribeStackResourcesCommand).resolves({
      StackResources: [
        {
          LogicalResourceId: 'AppLoadBalancerMainDomain',
          ResourceType: 'AWS::Route53::RecordSet',
          PhysicalResourceId: 'myapp.example.org',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
      ],
    });
    aws.r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [{ Name: 'myapp.example.org.', Type: 'A', SetIdentifier: 'myapp-2', Weight: 200 }],
      IsTruncated: false,
      MaxItems: 100,
    });
    const traffic = await senza(['delete', 'myapp', '2']);
    expect(traffic.err).toBe(
      'senza: Stack myapp-2 has traffic! Use --force if you really want to delete it\n',
    );
    expect((await senza(['delete', 'nope', '1'])).err).toBe('senza: Stack nope-1 not found!\n');
    expect((await senza(['delete', '-g', 'nope', '1'])).code).toBe(0);
  });
});

describe('stack information', () => {
  it('lists stacks with STACK_REF regexes and --all', async () => {
    stacks(
      summary('myapp-1'),
      summary('myapp-2', 'CREATE_IN_PROGRESS', 1),
      summary('suite-a-1'),
      summary('suite-b-42'),
      summary('other-42'),
    );
    const all = await senza(['list', '-o', 'tsv']);
    expect(all.out).toBe(
      [
        'stack_name\tversion\tstatus\tcreation_time\tdescription',
        'myapp\t1\tCREATE_COMPLETE\t2026-03-01T11:50:00.000Z\tmyapp-1 description',
        'myapp\t2\tCREATE_IN_PROGRESS\t2026-03-01T11:59:00.000Z\tmyapp-2 description',
        'other\t42\tCREATE_COMPLETE\t2026-03-01T11:50:00.000Z\tother-42 description',
        'suite-a\t1\tCREATE_COMPLETE\t2026-03-01T11:50:00.000Z\tsuite-a-1 description',
        'suite-b\t42\tCREATE_COMPLETE\t2026-03-01T11:50:00.000Z\tsuite-b-42 description',
        '',
      ].join('\n'),
    );
    const names = async (args: string[]) =>
      JSON.parse((await senza(['l', ...args, '-o', 'json'])).out).map(
        (s: { stack_name: string; version: string }) => `${s.stack_name}-${s.version}`,
      );
    expect(await names(['suite-.*', '1'])).toEqual(['suite-a-1']);
    expect(await names(['.*', '42'])).toEqual(['other-42', 'suite-b-42']);
    expect(await names(['webapp.yaml'])).toEqual(['myapp-1', 'myapp-2']);
    expect(await names(['myapp', '.*2'])).toEqual(['myapp-2']);
    await senza(['list', '--all']);
    expect(sent(aws.cf, ListStacksCommand).at(-1)).toEqual({});
    expect(
      (sent(aws.cf, ListStacksCommand)[0] as { StackStatusFilter: string[] }).StackStatusFilter,
    ).not.toContain('DELETE_COMPLETE');
    const text = await senza(['list', 'myapp', '1']);
    expect(text.out).toContain('myapp      1    CREATE_COMPLETE 10m ago myapp-1 description');
  });

  it('watches with -W (refreshing until interrupted; twice here)', async () => {
    stacks(summary('myapp-1'));
    const r = await senza(['list', '-W', '-o', 'tsv']);
    expect(r.out.split('\n').filter((l) => l.startsWith('myapp'))).toHaveLength(2);
    expect(sleeps).toBe(1);
  });

  it('shows events, resources, instances, status, domains and console output', async () => {
    stacks(summary('myapp-1'));
    aws.cf.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          EventId: 'e',
          StackId: 'id',
          StackName: 'myapp-1',
          Timestamp: NOW,
          LogicalResourceId: 'AppServer',
          ResourceType: 'AWS::AutoScaling::AutoScalingGroup',
          ResourceStatus: 'CREATE_FAILED',
          ResourceStatusReason: 'Failed to receive 1 resource signal(s) within the specified duration',
        },
      ],
    });
    const events = await senza(['events', 'myapp', '1', '-o', 'tsv']);
    expect(events.out.split('\n')[1]).toBe(
      'myapp\t1\tAutoScaling::AutoScalingGroup\tAppServer\tCREATE_FAILED\tFailed to receive 1 resource signal(s) within the specified duration\t2026-03-01T12:00:00.000Z',
    );
    aws.cf.on(DescribeStackResourcesCommand).resolves({
      StackResources: [
        {
          LogicalResourceId: 'AppLoadBalancer',
          ResourceType: 'AWS::ElasticLoadBalancing::LoadBalancer',
          PhysicalResourceId: 'myapp-1',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
        {
          LogicalResourceId: 'AppLoadBalancerMainDomain',
          ResourceType: 'AWS::Route53::RecordSet',
          PhysicalResourceId: 'myapp.example.org',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
        {
          LogicalResourceId: 'AppLoadBalancerVersionDomain',
          ResourceType: 'AWS::Route53::RecordSet',
          PhysicalResourceId: 'myapp-1.example.org',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
      ],
    });
    const resources = await senza(['resources', 'myapp', '1', '-o', 'json']);
    expect(JSON.parse(resources.out)[0]).toMatchObject({
      logical_resource_id: 'AppLoadBalancer',
      resource_type: 'ElasticLoadBalancing::LoadBalancer',
    });
    const instance = (id: string, state = 'running') => ({
      InstanceId: id,
      PrivateIpAddress: '172.31.1.2',
      State: { Name: state as 'running' },
      LaunchTime: NOW,
      ImageId: 'ami-taupage',
      Tags: [
        { Key: 'aws:cloudformation:stack-name', Value: 'myapp-1' },
        { Key: 'aws:cloudformation:logical-id', Value: 'AppServer' },
        { Key: 'Name', Value: 'myapp-1' },
      ],
    });
    aws.ec2
      .on(DescribeInstancesCommand)
      .resolves({ Reservations: [{ Instances: [instance('i-1'), instance('i-2', 'pending')] }] });
    const instances = await senza(['inst', 'myapp', '-o', 'tsv']);
    expect(instances.out.split('\n')[1]).toBe(
      'myapp\t1\tAppServer\ti-1\t\t172.31.1.2\tRUNNING\t2026-03-01T12:00:00.000Z',
    );
    aws.elb.on(DescribeInstanceHealthCommand).resolves({
      InstanceStates: [
        { InstanceId: 'i-1', State: 'InService' },
        { InstanceId: 'i-2', State: 'OutOfService' },
      ],
    });
    aws.r53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [] });
    const status = await senza(['status', 'myapp', '1', '-o', 'json']);
    expect(JSON.parse(status.out)).toEqual([
      {
        stack_name: 'myapp',
        version: '1',
        status: 'CREATE_COMPLETE',
        total_instances: 2,
        running_instances: 1,
        healthy_instances: 1,
        lb_status: 'InService,OutOfService',
        http_status: 'ERROR',
        main_dns: false,
      },
    ]);
    aws.r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: 'myapp.example.org.',
          Type: 'A',
          SetIdentifier: 'myapp-1',
          Weight: 200,
          AliasTarget: {
            DNSName: 'myapp-1-123.eu-west-1.elb.amazonaws.com.',
            HostedZoneId: 'Z',
            EvaluateTargetHealth: false,
          },
        },
        {
          Name: 'myapp-1.example.org.',
          Type: 'A',
          AliasTarget: {
            DNSName: 'myapp-1-123.eu-west-1.elb.amazonaws.com.',
            HostedZoneId: 'Z',
            EvaluateTargetHealth: false,
          },
        },
      ],
      IsTruncated: false,
      MaxItems: 100,
    });
    const domains = await senza(['domains', 'myapp', '-o', 'json']);
    expect(
      JSON.parse(domains.out).map((d: { domain: string; weight: number | null }) => [d.domain, d.weight]),
    ).toEqual([
      ['myapp.example.org', 200],
      ['myapp-1.example.org', null],
    ]);
    aws.ec2
      .on(GetConsoleOutputCommand)
      .resolves({ Output: Buffer.from('line1\nline2\nline3\n').toString('base64') });
    const console1 = await senza(['console', '172.31.1.2', '-l', '2']);
    expect(console1.out).toBe(
      'Showing last 2 lines of 172.31.1.2/i-1..\nline2\nline3\nShowing last 2 lines of 172.31.1.2/i-2..\nline2\nline3\n',
    );
    expect(sent(aws.ec2, DescribeInstancesCommand).at(-1)).toMatchObject({
      Filters: [{ Name: 'private-ip-address', Values: ['172.31.1.2'] }],
    });
    const console2 = await senza(['console', 'myapp', '1']);
    expect(console2.out).toContain('Showing last 25 lines of 172.31.1.2/i-1..\nline1\nline2\nline3\n');
  });

  it('lists used and available Taupage images', async () => {
    aws.ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-1',
              ImageId: 'ami-old',
              State: { Name: 'running' },
              Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'hello-world-4' }],
            },
          ],
        },
      ],
    });
    aws.ec2.on(DescribeImagesCommand, { ImageIds: ['ami-old'] }).resolves({
      Images: [
        {
          ImageId: 'ami-old',
          Name: 'Taupage-AMI-20150512-181649',
          OwnerId: '123',
          Description: 'old',
          CreationDate: '2015-05-12T18:16:49Z',
        },
      ],
    });
    aws.ec2
      .on(DescribeImagesCommand, {
        Filters: [
          { Name: 'name', Values: ['Taupage-AMI-*'] },
          { Name: 'state', Values: ['available'] },
        ],
      })
      .resolves({
        Images: [
          {
            ImageId: 'ami-new',
            Name: 'Taupage-AMI-20260220-111503',
            OwnerId: '123',
            Description: 'new',
            CreationDate: '2026-02-20T11:15:03Z',
          },
          {
            ImageId: 'ami-ancient',
            Name: 'Taupage-AMI-20100101-000000',
            OwnerId: '123',
            Description: 'unused',
            CreationDate: '2010-01-01T00:00:00Z',
          },
        ],
      });
    const r = await senza(['images', '-o', 'tsv']);
    expect(r.out).toBe(
      'ImageId\tName\tOwnerId\tDescription\tstacks\ttotal_instances\tcreation_time\n' +
        'ami-old\tTaupage-AMI-20150512-181649\t123\told\thello-world-4\t1\t2015-05-12T18:16:49.000Z\n' +
        'ami-new\tTaupage-AMI-20260220-111503\t123\tnew\t\t0\t2026-02-20T11:15:03.000Z\n',
    );
  });
});

describe('traffic', () => {
  function trafficWorld(weights: Record<string, number>) {
    const versions = Object.keys(weights);
    stacks(...versions.map((v, i) => summary(`myapp-${v}`, 'CREATE_COMPLETE', 100 - i)));
    aws.cf.on(DescribeStackResourcesCommand).callsFake((input: { StackName: string }) => ({
      StackResources: [
        {
          LogicalResourceId: 'AppLoadBalancerMainDomain',
          ResourceType: 'AWS::Route53::RecordSet',
          PhysicalResourceId: 'myapp.example.org',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
        {
          LogicalResourceId: 'AppLoadBalancerVersionDomain',
          ResourceType: 'AWS::Route53::RecordSet',
          PhysicalResourceId: `${input.StackName}.example.org`,
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
      ],
    }));
    aws.r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: versions.map((v) => ({
        Name: 'myapp.example.org.',
        Type: 'A' as const,
        SetIdentifier: `myapp-${v}`,
        Weight: weights[v],
        AliasTarget: { DNSName: `myapp-${v}.elb.`, HostedZoneId: 'Z', EvaluateTargetHealth: false },
      })),
      IsTruncated: false,
      MaxItems: 100,
    });
    aws.cf.on(GetTemplateCommand).resolves({
      TemplateBody: JSON.stringify({
        Resources: {
          AppLoadBalancerMainDomain: {
            Type: 'AWS::Route53::RecordSet',
            Properties: { Name: 'myapp.example.org.', Weight: 0 },
          },
        },
      }),
    });
    aws.cf.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'x',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: NOW,
          Parameters: [{ ParameterKey: 'ImageVersion', ParameterValue: '1' }],
        },
      ],
    });
    aws.cf.on(UpdateStackCommand).resolves({});
  }

  it('shows the weights', async () => {
    trafficWorld({ v1: 100, v2: 100 });
    const r = await senza(['traffic', 'webapp.yaml', '-o', 'tsv']);
    expect(r.out).toBe(
      'stack_name\tversion\tidentifier\tweight%\nmyapp\tv1\tmyapp-v1\t50\nmyapp\tv2\tmyapp-v2\t50\n',
    );
  });

  it('shifts traffic through each stack template so the weights sum to 100', async () => {
    trafficWorld({ v1: 200, v2: 0, v3: 0 });
    const r = await senza(['traffic', 'myapp', 'v3', '25', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(
      JSON.parse(r.out).map((x: Record<string, unknown>) => [
        x.identifier,
        x['old_weight%'],
        x['new_weight%'],
      ]),
    ).toEqual([
      ['myapp-v1', 100, 75],
      ['myapp-v2', 0, 0],
      ['myapp-v3', 0, 25],
    ]);
    const updates = sent(aws.cf, UpdateStackCommand) as {
      StackName: string;
      TemplateBody: string;
      Parameters: unknown[];
    }[];
    expect(
      updates.map((u) => [
        u.StackName,
        JSON.parse(u.TemplateBody).Resources.AppLoadBalancerMainDomain.Properties.Weight,
      ]),
    ).toEqual([
      ['myapp-v1', 150],
      ['myapp-v3', 50],
    ]);
    expect(updates[0]!.Parameters).toEqual([{ ParameterKey: 'ImageVersion', UsePreviousValue: true }]);
    expect(r.err).toContain('Setting weights for myapp.example.org.. OK\n');
  });

  it('writes Route53 directly when CloudFormation has nothing to update', async () => {
    trafficWorld({ v1: 200, v2: 0 });
    aws.cf.on(UpdateStackCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: {},
        message: 'No updates are to be performed.',
      }),
    );
    aws.r53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: 'c', Status: 'PENDING', SubmittedAt: NOW } });
    await senza(['traffic', 'myapp', 'v2', '100']);
    const changes = sent(aws.r53, ChangeResourceRecordSetsCommand) as {
      ChangeBatch: {
        Changes: { Action: string; ResourceRecordSet: { SetIdentifier: string; Weight: number } }[];
      };
    }[];
    expect(
      changes.map((c) => [
        c.ChangeBatch.Changes[0]!.ResourceRecordSet.SetIdentifier,
        c.ChangeBatch.Changes[0]!.ResourceRecordSet.Weight,
      ]),
    ).toEqual([
      ['myapp-v1', 0],
      ['myapp-v2', 200],
    ]);
  });

  it('rejects unknown versions and bad percentages', async () => {
    trafficWorld({ v1: 200 });
    expect((await senza(['traffic', 'myapp', 'v9', '10'])).err).toBe('senza: Stack version v9 not found\n');
    expect((await senza(['traffic', 'myapp', 'v1', '150'])).err).toBe(
      'senza: PERCENTAGE must be a number between 0 and 100\n',
    );
  });
});

describe('patch and respawn-instances', () => {
  const group = (instances: { id: string; lc: string; state?: string }[], capacity = 2) => ({
    AutoScalingGroupName: 'myapp-1-AppServer-XYZ',
    LaunchConfigurationName: 'lc-new',
    MinSize: capacity,
    MaxSize: 4,
    DesiredCapacity: capacity,
    DefaultCooldown: 300,
    AvailabilityZones: [],
    HealthCheckType: 'ELB',
    CreatedTime: NOW,
    LoadBalancerNames: ['myapp-1'],
    Instances: instances.map((i) => ({
      InstanceId: i.id,
      LaunchConfigurationName: i.lc,
      LifecycleState: (i.state ?? 'InService') as 'InService',
      AvailabilityZone: 'eu-west-1a',
      HealthStatus: 'Healthy',
      ProtectedFromScaleIn: false,
    })),
  });

  beforeEach(() => {
    stacks(summary('myapp-1'));
    aws.cf.on(DescribeStackResourcesCommand).resolves({
      StackResources: [
        {
          LogicalResourceId: 'AppServer',
          ResourceType: 'AWS::AutoScaling::AutoScalingGroup',
          PhysicalResourceId: 'myapp-1-AppServer-XYZ',
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: NOW,
        },
      ],
    });
  });

  it('patches the launch configuration to the latest Taupage image and new user data', async () => {
    aws.asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group([])] });
    aws.asg.on(DescribeLaunchConfigurationsCommand).resolves({
      LaunchConfigurations: [
        {
          LaunchConfigurationName: 'lc-new',
          ImageId: 'ami-old',
          InstanceType: 't2.micro',
          CreatedTime: NOW,
          SecurityGroups: ['sg-1'],
          UserData: Buffer.from(
            '#taupage-ami-config\nsource: pierone.example.org/myteam/myart:1.1\nruntime: Docker\n',
          ).toString('base64'),
        },
      ],
    });
    const r = await senza([
      'patch',
      'myapp',
      '1',
      '--image=latest',
      '--user-data',
      'source: pierone.example.org/myteam/myart:1.2',
    ]);
    expect(r.err).toContain('Patching Auto Scaling Group myapp-1-AppServer-XYZ.. OK\n');
    const [created] = sent(aws.asg, CreateLaunchConfigurationCommand) as [
      { LaunchConfigurationName: string; ImageId: string; UserData: string; SecurityGroups: string[] },
    ];
    expect(created.LaunchConfigurationName).toBe('lc-new-20260301T120000');
    expect(created.ImageId).toBe('ami-taupage');
    expect(created.SecurityGroups).toEqual(['sg-1']);
    // The API takes base64 (plain text is refused with InvalidUserData.Malformed).
    const userData = Buffer.from(created.UserData, 'base64').toString('utf8');
    expect(Buffer.from(userData, 'utf8').toString('base64')).toBe(created.UserData);
    expect(userData.split('\n')[0]).toBe('#taupage-ami-config');
    expect(parse(userData)).toEqual({
      source: 'pierone.example.org/myteam/myart:1.2',
      runtime: 'Docker',
    });
    expect(sent(aws.asg, UpdateAutoScalingGroupCommand)).toEqual([
      { AutoScalingGroupName: 'myapp-1-AppServer-XYZ', LaunchConfigurationName: 'lc-new-20260301T120000' },
    ]);
    expect((await senza(['patch', 'myapp', '1'])).err).toBe(
      'senza: Nothing to patch. Please specify at least one patch option (e.g. "--image").\n',
    );
  });

  it('patches a launch template: decodes the current user data, writes base64 into a new version', async () => {
    const templated = { ...group([]), LaunchConfigurationName: undefined };
    const mixed = {
      ...templated,
      AutoScalingGroupName: 'myapp-1-Worker-XYZ',
      MixedInstancesPolicy: {
        LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-2', Version: '1' } },
      },
    };
    aws.cf.on(DescribeStackResourcesCommand).resolves({
      StackResources: ['AppServer', 'Worker'].map((name) => ({
        LogicalResourceId: name,
        ResourceType: 'AWS::AutoScaling::AutoScalingGroup',
        PhysicalResourceId: `myapp-1-${name}-XYZ`,
        ResourceStatus: 'CREATE_COMPLETE',
        Timestamp: NOW,
      })),
    });
    aws.asg.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
      AutoScalingGroups: [
        input.AutoScalingGroupNames[0] === 'myapp-1-Worker-XYZ'
          ? mixed
          : { ...templated, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
      ],
    }));
    const current = '#taupage-ami-config\nsource: pierone.example.org/myteam/myart:1.1\nruntime: Docker\n';
    aws.ec2
      .on(DescribeLaunchTemplateVersionsCommand)
      .callsFake((input: { LaunchTemplateId: string; Versions: string[] }) => ({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: input.LaunchTemplateId,
            VersionNumber: Number(input.Versions[0]),
            LaunchTemplateData: {
              ImageId: 'ami-old',
              InstanceType: 't2.micro',
              UserData: Buffer.from(current).toString('base64'),
            },
          },
        ],
      }));
    aws.ec2.on(CreateLaunchTemplateVersionCommand).callsFake((input: { SourceVersion: string }) => ({
      LaunchTemplateVersion: { VersionNumber: Number(input.SourceVersion) + 1 },
    }));
    const r = await senza([
      'patch',
      'myapp',
      '1',
      '--user-data',
      'source: pierone.example.org/myteam/myart:1.2',
    ]);
    expect(r.code).toBe(0);
    const created = sent(aws.ec2, CreateLaunchTemplateVersionCommand) as {
      LaunchTemplateId: string;
      SourceVersion: string;
      LaunchTemplateData: { UserData: string };
    }[];
    expect(created.map((c) => [c.LaunchTemplateId, c.SourceVersion])).toEqual([
      ['lt-1', '3'],
      ['lt-2', '1'],
    ]);
    for (const c of created) {
      expect(Object.keys(c.LaunchTemplateData)).toEqual(['UserData']);
      expect(parse(Buffer.from(c.LaunchTemplateData.UserData, 'base64').toString('utf8'))).toEqual({
        source: 'pierone.example.org/myteam/myart:1.2',
        runtime: 'Docker',
      });
    }
    // The mixed-instances group gets the new version inside its policy, the other one directly.
    expect(sent(aws.asg, UpdateAutoScalingGroupCommand)).toEqual([
      {
        AutoScalingGroupName: 'myapp-1-AppServer-XYZ',
        LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '4' },
      },
      {
        AutoScalingGroupName: 'myapp-1-Worker-XYZ',
        MixedInstancesPolicy: {
          LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-2', Version: '2' } },
        },
      },
    ]);
  });

  it('respawns instances one by one: suspend, n+1, wait healthy, terminate, reset, resume', async () => {
    const old = group([
      { id: 'i-a', lc: 'lc-old' },
      { id: 'i-b', lc: 'lc-old' },
    ]);
    aws.asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [old] });
    // ELB health over time: first scale-out needs one poll, terminated instances leave service.
    aws.elb
      .on(DescribeInstanceHealthCommand)
      .resolvesOnce({
        InstanceStates: [
          { InstanceId: 'i-a', State: 'InService' },
          { InstanceId: 'i-b', State: 'InService' },
          { InstanceId: 'i-c', State: 'OutOfService' },
        ],
      })
      .resolvesOnce({
        InstanceStates: [
          { InstanceId: 'i-a', State: 'InService' },
          { InstanceId: 'i-b', State: 'InService' },
          { InstanceId: 'i-c', State: 'InService' },
        ],
      })
      .resolvesOnce({
        InstanceStates: [
          { InstanceId: 'i-b', State: 'InService' },
          { InstanceId: 'i-c', State: 'InService' },
        ],
      })
      .resolvesOnce({
        InstanceStates: [
          { InstanceId: 'i-b', State: 'InService' },
          { InstanceId: 'i-c', State: 'InService' },
          { InstanceId: 'i-d', State: 'InService' },
        ],
      })
      .resolves({
        InstanceStates: [
          { InstanceId: 'i-c', State: 'InService' },
          { InstanceId: 'i-d', State: 'InService' },
        ],
      });
    const r = await senza(['respawn', 'myapp', '1']);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      [
        '2/2 instances need to be updated in myapp-1-AppServer-XYZ',
        'Suspending scaling processes for myapp-1-AppServer-XYZ.. OK',
        'Scaling to 3 instances.. . OK',
        'Terminating old instance i-a.. OK',
        'Scaling to 3 instances.. OK',
        'Terminating old instance i-b.. OK',
        'Resetting Auto Scaling Group to original capacity (2-2-4).. OK',
        'Resuming scaling processes for myapp-1-AppServer-XYZ.. OK',
        '',
      ].join('\n'),
    );
    const order = [...aws.asg.calls()]
      .map((c) => c.args[0].constructor.name)
      .filter((n) => n !== 'DescribeAutoScalingGroupsCommand');
    expect(order).toEqual([
      'SuspendProcessesCommand',
      'UpdateAutoScalingGroupCommand',
      'TerminateInstanceInAutoScalingGroupCommand',
      'UpdateAutoScalingGroupCommand',
      'TerminateInstanceInAutoScalingGroupCommand',
      'UpdateAutoScalingGroupCommand',
      'ResumeProcessesCommand',
    ]);
    expect(sent(aws.asg, SuspendProcessesCommand)).toEqual([
      {
        AutoScalingGroupName: 'myapp-1-AppServer-XYZ',
        ScalingProcesses: ['AZRebalance', 'AlarmNotification', 'ScheduledActions'],
      },
    ]);
    expect(sent(aws.asg, UpdateAutoScalingGroupCommand)).toEqual([
      { AutoScalingGroupName: 'myapp-1-AppServer-XYZ', MinSize: 3, MaxSize: 5, DesiredCapacity: 3 },
      { AutoScalingGroupName: 'myapp-1-AppServer-XYZ', MinSize: 3, MaxSize: 5, DesiredCapacity: 3 },
      { AutoScalingGroupName: 'myapp-1-AppServer-XYZ', MinSize: 2, MaxSize: 4, DesiredCapacity: 2 },
    ]);
    expect(sent(aws.asg, TerminateInstanceInAutoScalingGroupCommand)).toEqual([
      { InstanceId: 'i-a', ShouldDecrementDesiredCapacity: false },
      { InstanceId: 'i-b', ShouldDecrementDesiredCapacity: false },
    ]);
    expect(sent(aws.asg, ResumeProcessesCommand)).toHaveLength(1);
  });

  it('does nothing when every instance is up to date, and resumes processes after a failure', async () => {
    aws.asg
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [group([{ id: 'i-a', lc: 'lc-new' }])] });
    const r = await senza(['respawn-instances', 'myapp', '1']);
    expect(r.err).toBe('0/1 instances need to be updated in myapp-1-AppServer-XYZ\nNothing to do\n');
    aws.asg
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [group([{ id: 'i-a', lc: 'lc-old' }])] });
    aws.asg.on(TerminateInstanceInAutoScalingGroupCommand).rejects(new Error('boom'));
    aws.elb.on(DescribeInstanceHealthCommand).resolves({
      InstanceStates: ['i-a', 'i-x', 'i-y'].map((InstanceId) => ({ InstanceId, State: 'InService' })),
    });
    const failed = await senza(['respawn-instances', 'myapp', '1']);
    expect(failed.code).toBe(1);
    expect(sent(aws.asg, ResumeProcessesCommand)).toHaveLength(1);
    expect(failed.err).toContain('Resetting Auto Scaling Group to original capacity (2-2-4).. OK\n');
  });
});

describe('init', () => {
  it('writes a webapp definition and creates the security groups and IAM role', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senza-init-'));
    aws.iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    aws.iam.on(CreateRoleCommand).resolves({});
    aws.iam.on(PutRolePolicyCommand).resolves({});
    aws.ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
    aws.ec2.on(CreateTagsCommand).resolves({});
    aws.ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    const r = await senza(
      ['init', 'app.yaml', '-t', 'webapp', '-v', 'application_id=myapp', '-v', 'mint_bucket=mint-b'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain('Checking security group app-myapp.. OK\n');
    expect(r.err).toContain('Creating IAM role app-myapp.. OK\n');
    expect(sent(aws.ec2, CreateSecurityGroupCommand)).toEqual([]);
    expect(sent(aws.iam, PutRolePolicyCommand)).toHaveLength(1);
    const yaml = await readFile(join(dir, 'app.yaml'), 'utf8');
    expect(parse(yaml).SenzaComponents[1].AppServer.TaupageConfig).toMatchObject({
      source: 'stups/hello-world:{{Arguments.ImageVersion}}',
      mint_bucket: 'mint-b',
      ports: { 8080: 8080 },
    });
    // The generated definition prints.
    const printed = await senza(['print', 'app.yaml', '1', '0.1'], { cwd: dir });
    expect(printed.code).toBe(0);
    produced.set('init -t webapp', JSON.parse(printed.out));
    for (const t of ['bgapp', 'postgresapp']) {
      const out = await senza(['init', `${t}.yaml`, '-t', t], { cwd: dir });
      expect(out.code).toBe(0);
    }
    // Security groups that do not exist yet are created, open to the template's ports.
    expect(
      sent(aws.ec2, CreateSecurityGroupCommand).map((i) => (i as { GroupName: string }).GroupName),
    ).toEqual(['app-spilo']);
    expect(sent(aws.ec2, AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
    const bgapp = await senza(['print', 'bgapp.yaml', '1', '0.1'], { cwd: dir });
    expect(bgapp.code).toBe(0);
    produced.set('init -t bgapp', JSON.parse(bgapp.out));
    expect((await senza(['init', 'x.yaml'], { cwd: dir })).err).toBe(
      'senza: choose a template with -t (bgapp, postgresapp, webapp)\n',
    );
    await rm(dir, { recursive: true });
  });
});

describe('definition errors and AWS settings', () => {
  it('names the YAML path of unknown component types and invalid properties', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senza-bad-'));
    await writeFile(
      join(dir, 'bad.yaml'),
      'SenzaInfo: {StackName: bad}\nSenzaComponents:\n  - Foo: {Type: Senza::Nope}\n',
    );
    expect((await senza(['print', 'bad.yaml', '1'], { cwd: dir })).err).toContain(
      'senza: SenzaComponents[0].Foo.Type: Component "Senza::Nope" does not exist; known: ',
    );
    await writeFile(
      join(dir, 'bad2.yaml'),
      'SenzaInfo: {StackName: bad}\nSenzaComponents:\n  - Configuration: {Type: Senza::StupsAutoConfiguration}\n  - App:\n      Type: Senza::TaupageAutoScalingGroup\n      InstanceTyp: t2.micro\n      TaupageConfig: {runtime: Docker, source: x, prots: {80: 80}, root: maybe}\n',
    );
    const r = await senza(['print', 'bad2.yaml', '1'], { cwd: dir });
    expect(r.err).toContain('senza: SenzaComponents[1].App.InstanceType: required');
    expect(r.err).toContain(
      'SenzaComponents[1].App.InstanceTyp: unknown property of Senza::TaupageAutoScalingGroup',
    );
    await writeFile(
      join(dir, 'bad3.yaml'),
      'SenzaInfo: {StackName: bad}\nSenzaComponents:\n  - Configuration: {Type: Senza::StupsAutoConfiguration}\n  - App:\n      Type: Senza::TaupageAutoScalingGroup\n      InstanceType: t2.micro\n      TaupageConfig: {runtime: Docker, source: x, prots: {80: 80}, root: maybe}\n',
    );
    const taupage = await senza(['print', 'bad3.yaml', '1'], { cwd: dir });
    expect(taupage.err).toContain(
      'senza: SenzaComponents[1].App.TaupageConfig.root: expected true or false\n',
    );
    // Unknown Taupage options are passed on with a warning, as STUPS did.
    expect(taupage.err).toContain(
      'SenzaComponents[1].App.TaupageConfig.prots: unknown option: passed to Taupage unchanged\n',
    );
    await rm(dir, { recursive: true });
  });

  it('needs a region', async () => {
    const r = await senza(['list'], { env: { AWS_REGION: '', AWS_CONFIG_FILE: '/nonexistent' } });
    expect(r.err).toBe(
      'senza: no AWS region: pass --region, set AWS_REGION, or set "region" in ~/.aws/config\n',
    );
  });

  it('honours --region and AWS_ENDPOINT_URL in every client', async () => {
    const { resolveAwsSettings } = await import('../aws/aws-settings.js');
    const settings = resolveAwsSettings('us-east-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    const senzaAws = new SenzaAws(settings);
    for (const adapter of [
      senzaAws.cloudFormation(),
      senzaAws.ec2(),
      senzaAws.route53(),
      senzaAws.iam(),
      senzaAws.autoScaling(),
      senzaAws.elb(),
      senzaAws.elbV2(),
      senzaAws.acm(),
      senzaAws.kms(),
      senzaAws.sts(),
    ]) {
      const { client } = await adapter;
      expect(await client.config.region()).toBe('us-east-1');
      const endpoint = await (
        client.config as unknown as { endpoint: () => Promise<{ hostname: string; port: number }> }
      ).endpoint();
      expect([endpoint.hostname, endpoint.port]).toEqual(['127.0.0.1', 4566]);
    }
  });
});

void AutoScalingClient;
