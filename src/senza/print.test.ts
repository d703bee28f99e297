import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { parse } from 'yaml';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { senzaProgram } from './cli/main.js';
import { mockAws, stupsAccount } from './test-support/aws-mocks.js';
import { cfnLintErrors } from './test-support/cfn-lint.js';
import { checkTemplate } from './test-support/cfn-spec.js';

const aws = mockAws();
afterAll(() => aws.restore());
beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
  aws.cf
    .on(DescribeStackResourceCommand)
    .callsFake((input: { StackName: string; LogicalResourceId: string }) => ({
      StackResourceDetail: {
        StackName: input.StackName,
        LogicalResourceId: input.LogicalResourceId,
        ResourceType: input.LogicalResourceId.endsWith('SecurityGroup')
          ? 'AWS::EC2::SecurityGroup'
          : 'AWS::IAM::Role',
        PhysicalResourceId: input.LogicalResourceId.endsWith('SecurityGroup')
          ? 'sg-base'
          : 'base-1-ApplicationRole-XYZ',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: new Date(0),
      },
    }));
  aws.cf.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'shop-db-2',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(0),
        Outputs: [{ OutputKey: 'DatabaseHost', OutputValue: 'db.internal.example.org' }],
      },
    ],
  });
});

const TESTDATA = join(import.meta.dirname, 'testdata');

export async function senza(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1', ...env } });
  io.cwd = TESTDATA;
  const code = await runCli(senzaProgram({ io }), args, io);
  await io.cleanup();
  return { code, out: io.out(), err: io.err() };
}

/**
 * Compares with `testdata/<name>.golden.json` as JSON (the file is stored the way Prettier
 * formats it); `UPDATE_GOLDEN=1` rewrites it.
 */
async function golden(name: string, actual: string): Promise<void> {
  const file = join(TESTDATA, `${name}.golden.json`);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    await writeFile(file, `${JSON.stringify(JSON.parse(actual), null, 2)}\n`);
  }
  expect(JSON.parse(actual)).toEqual(JSON.parse(await readFile(file, 'utf8')));
}

const cases: [string, string[]][] = [
  ['minimal-sqs', ['1']],
  ['hello-world', ['1', 'hello-world', '0.1', 'mint-bucket']],
  ['webapp', ['1', '0.1']],
  ['ebs-volume', ['v1', '2.0']],
  ['taupage-full', ['7']],
  ['all-components', ['42', '1.0']],
];

describe('senza print: golden templates', () => {
  it.each(cases)('%s matches its golden file and the resource specification', async (name, args) => {
    const r = await senza(['print', '--force', `${name}.yaml`, ...args]);
    expect(r.err).not.toContain('FAILED');
    expect(r.code).toBe(0);
    await golden(name, r.out);
    const template = JSON.parse(r.out);
    expect(checkTemplate(template)).toEqual([]);
  });

  it('every golden template passes cfn-lint (errors fail; warnings are listed)', async () => {
    const templates = new Map<string, unknown>();
    for (const [name, args] of cases) {
      const r = await senza(['print', '--force', `${name}.yaml`, ...args]);
      expect(r.code).toBe(0);
      templates.set(name, JSON.parse(r.out));
    }
    expect(await cfnLintErrors(templates)).toEqual([]);
  });

  it('lists the account alias first (credential check), then evaluates', async () => {
    await senza(['print', '--force', 'minimal-sqs.yaml', '1']);
    expect(aws.iam.calls()[0]!.args[0].constructor.name).toBe('ListAccountAliasesCommand');
    // Nothing in the minimal definition uses AccountInfo or components: no other AWS call.
    expect(aws.sts.calls()).toHaveLength(0);
    expect(aws.r53.calls()).toHaveLength(0);
    expect(aws.ec2.calls()).toHaveLength(0);
  });

  it('renders every documented feature into the all-components template', async () => {
    const t = JSON.parse((await senza(['print', '--force', 'all-components.yaml', '42', '1.0'])).out);
    const r = t.Resources;
    expect(r.ShopServer.CreationPolicy).toEqual({ ResourceSignal: { Count: '4', Timeout: 'PT1H20M30S' } });
    expect(r.ShopServerConfig.Properties.SecurityGroups).toEqual(['sg-myapp', 'sg-0123', 'sg-base']);
    expect(r.ShopServerConfig.Properties.SpotPrice).toBe('0.134');
    expect(r.ShopServerRole.Properties.Policies.map((p: { PolicyName: string }) => p.PolicyName)).toEqual([
      'app-shop-policy',
      'app-shop-extra-policy',
    ]);
    expect(r.ShopServerCPUAlarmHigh.Properties.AlarmDescription).toBe(
      'Scale-up if CPU > 70% for 3 minutes (Maximum)',
    );
    expect(r.WorkerNetworkAlarmHigh.Properties).toMatchObject({
      Threshold: '100',
      Unit: 'Gigabytes',
      MetricName: 'NetworkIn',
    });
    expect(r.WorkerNetworkAlarmLow.Properties).toMatchObject({ Threshold: '2', Unit: 'Kilobytes' });
    expect(r.Worker.CreationPolicy.ResourceSignal).toEqual({ Count: '2', Timeout: 'PT15M' });
    expect(r.Worker.Properties.HealthCheckType).toBe('EC2');
    expect(r.Worker.Properties.LaunchTemplate.LaunchTemplateId).toEqual({ Ref: 'WorkerConfig' });
    expect(r.WorkerConfig.Properties.LaunchTemplateData.InstanceMarketOptions.SpotOptions.MaxPrice).toBe(
      '0.02',
    );
    expect(r.WorkerInstanceProfile.Properties.Roles).toEqual(['base-1-ApplicationRole-XYZ']);
    expect(r.ShopServer.Properties.HealthCheckType).toBe('ELB');
    expect(r.ShopServer.Properties.TargetGroupARNs).toEqual([{ Ref: 'ShopLoadBalancerTargetGroup' }]);
    expect(r.ShopServer.Properties.NotificationConfiguration.TopicARN).toBe(
      'arn:aws:sns:eu-west-1:123456789012:deployments',
    );
    expect(r.ShopLoadBalancerMainDomain.Properties).toMatchObject({
      Name: 'shop.example.org.',
      Weight: 0,
      SetIdentifier: 'shop-42',
    });
    expect(r.ShopLoadBalancerVersionDomain.Properties.Name).toBe('shop-42.example.org.');
    expect(r.ShopLoadBalancer.Properties.Scheme).toBe('internet-facing');
    expect(r.ShopLoadBalancerListener.Properties.Certificates).toEqual([
      { CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/wild' },
    ]);
    expect(r.WorkerLoadBalancer.Properties.HealthCheck.Target).toBe('TCP:9090');
    expect(r.WorkerLoadBalancer.Properties.LoadBalancerName).toBe('shop-42-worker');
    expect(r.WorkerLoadBalancer.Properties.Listeners[0].SSLCertificateId).toBe(
      'arn:aws:iam::123456789012:server-certificate/example-org',
    );
    const info = t.Mappings.Senza.Info;
    expect(info.SecretToken).toBe('decrypted:secret');
    expect(info.Tags).toContainEqual({ Team: 'myteam' });
    expect(t.Parameters.Greeting.Default).toBe('Hi from eu-west-1');
    expect(t.Mappings.Images['eu-west-1']).toMatchObject({ MyImage: 'ami-custom', OtherImage: 'ami-other' });
    const userData = r.ShopServerConfig.Properties.UserData['Fn::Base64']['Fn::Join'][1];
    const text = userData.filter((p: unknown) => typeof p === 'string').join('');
    expect(text).toContain('GREETING: Hi from eu-west-1');
    expect(text).toContain('DB_HOST: db.internal.example.org');
    expect(text).toContain('SECRET: decrypted:secret');
    expect(userData).toContainEqual({ Ref: 'AWS::Region' });
    expect(r.sr).toBeUndefined();
  });

  it('keeps aws:kms: values as they are in the user data', async () => {
    const t = JSON.parse((await senza(['print', '--force', 'webapp.yaml', '1', '0.1'])).out);
    const userData = t.Resources.AppServerConfig.Properties.UserData['Fn::Base64'] as string;
    expect(userData.startsWith('#taupage-ami-config\n')).toBe(true);
    const config = parse(userData);
    expect(config.environment.MY_DB_PASSWORD).toBe('aws:kms:v5V2bMGRgg2yTHXm5Fn');
    expect(config.ports).toEqual({ 8080: 8080 });
    expect(config.notify_cfn).toEqual({ stack: 'myapp-1', resource: 'AppServer' });
  });

  it('reads a list or map Default as JSON text, as parameter files are read', async () => {
    // String() made "[object Object]" of a map default, which no template can mean.
    const dir = await mkdtemp(join(tmpdir(), 'senza-default-'));
    try {
      const file = join(dir, 'defaults.yaml');
      await writeFile(
        file,
        [
          'SenzaInfo:',
          '  StackName: example',
          '  Parameters:',
          '    - Zones: {Default: [a, b]}',
          '    - Limits: {Default: {cpu: 2}}',
          'Resources:',
          '  MyQueue:',
          '    Type: AWS::SQS::Queue',
          '    Properties: {QueueName: "{{{Arguments.Zones}}} {{{Arguments.Limits}}}"}',
          '',
        ].join('\n'),
      );
      const r = await senza(['print', '--force', file, '1']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).Resources.MyQueue.Properties.QueueName).toBe('["a","b"] {"cpu":2}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints YAML with -o yaml', async () => {
    const r = await senza(['print', '--force', 'minimal-sqs.yaml', '1', '-o', 'yaml']);
    expect(parse(r.out).Resources.MyQueue.Type).toBe('AWS::SQS::Queue');
  });
});
