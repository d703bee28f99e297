import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  GetTemplateCommand,
  ListStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cfnLintErrors } from '../../src/senza/test-support/cfn-lint.js';
import {
  motoClientConfig,
  motoEnv,
  type RunningMoto,
  seedStupsAccount,
  skipWithoutMoto,
  type StupsAccount,
  startMoto,
  TAUPAGE_IMAGES,
} from '../../src/senza/test-support/moto.js';
import { PERCENT_RESOLUTION } from '../../src/senza/traffic.js';
import { ROOT } from './support/start-stups.js';

/*
 * Senza end to end against the AWS emulator moto (moto_server on loopback): the built `senza`
 * as a child process, as a user runs it, with AWS_ENDPOINT_URL pointing at the emulator; the
 * effect is checked in the emulator through the AWS SDK. Needs `npm run build` (npm test does it).
 *
 * What moto cannot show, and this test therefore does not cover:
 * - CloudFormation's CreationPolicy: moto creates the group at once, no instance signals
 *   (Taupage's notify_cfn), so `create --wait` never sees a group waiting for its instances;
 * - load balancer health: moto reports every registered instance InService at once, so
 *   `respawn-instances` never polls for a new instance to become healthy;
 * - DNS: the version and main domains do not resolve (no HTTP or Main DNS check against them).
 * moto bugs the flows run into are fixed in the emulator, never in the product: see
 * src/senza/moto-fixes/sitecustomize.py and TAUPAGE_IMAGES in moto.ts.
 */

const SENZA = join(ROOT, 'bin/senza.js');
const skip = skipWithoutMoto();

let moto: RunningMoto;
let account: StupsAccount;
let work: string;
let registryServer: Server;
/** `127.0.0.1:<port>`: the Docker registry the definitions' images come from. */
let registry: string;
const templates = new Map<string, unknown>();

/** Tags of the images the definitions run, served the way any registry does (`/v2/<name>/tags/list`). */
const IMAGE_TAGS: Record<string, string[]> = {
  'myteam/hello': ['1.0', '1.1', '2.0'],
  'myteam/worker': ['1.0', '1.1', '2.0'],
  'acid/spilo': ['3.0-p1'],
};

/**
 * A loopback Docker registry that only lists tags: Senza checks that a definition's image
 * exists before it prints or creates a stack; the images themselves are never pulled here.
 */
async function startRegistry(): Promise<void> {
  registryServer = createServer((req, res) => {
    const name = /^\/v2\/(.+)\/tags\/list$/.exec(req.url ?? '')?.[1];
    const tags = name ? IMAGE_TAGS[name] : undefined;
    if (req.method !== 'GET' || !tags) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name, tags }));
  });
  await new Promise<void>((resolve) => registryServer.listen(0, '127.0.0.1', resolve));
  const address = registryServer.address();
  registry = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function senza(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SENZA, ...args], {
    cwd: work,
    // Own HOME: no ~/.aws of the machine's user may change region or credentials.
    env: { PATH: process.env.PATH, HOME: work, ...motoEnv(moto.endpoint) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

/** Runs senza and expects exit 0, showing its output otherwise. */
async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await senza(args);
  expect(r.code, `senza ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  return r;
}

const client = {
  cf: () => new CloudFormationClient(motoClientConfig(moto.endpoint)),
  asg: () => new AutoScalingClient(motoClientConfig(moto.endpoint)),
  ec2: () => new EC2Client(motoClientConfig(moto.endpoint)),
  iam: () => new IAMClient(motoClientConfig(moto.endpoint)),
  r53: () => new Route53Client(motoClientConfig(moto.endpoint)),
};

/** The template CloudFormation holds for a stack; collected for cfn-lint. */
async function storedTemplate(stack: string, label: string): Promise<Record<string, unknown>> {
  const r = await client.cf().send(new GetTemplateCommand({ StackName: stack }));
  const template = JSON.parse(r.TemplateBody!) as Record<string, unknown>;
  templates.set(label, template);
  return template;
}

async function autoScalingGroup(stack: string) {
  const resources = await client.cf().send(new DescribeStackResourcesCommand({ StackName: stack }));
  const name = resources.StackResources!.find(
    (r) => r.ResourceType === 'AWS::AutoScaling::AutoScalingGroup',
  )!.PhysicalResourceId!;
  const r = await client.asg().send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return r.AutoScalingGroups![0]!;
}

async function launchConfiguration(name: string) {
  const r = await client
    .asg()
    .send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [name] }));
  return r.LaunchConfigurations![0]!;
}

/** Taupage user data as EC2 hands it to the instance: base64 of `#taupage-ami-config` + YAML. */
function taupageConfig(base64: string): Record<string, unknown> {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  expect(Buffer.from(text, 'utf8').toString('base64')).toBe(base64);
  expect(text.split('\n')[0]).toBe('#taupage-ami-config');
  return parse(text) as Record<string, unknown>;
}

/** Weights of the weighted records of a domain, by set identifier. */
async function weights(domain: string): Promise<Record<string, number>> {
  const r = await client.r53().send(new ListResourceRecordSetsCommand({ HostedZoneId: account.zoneId }));
  return Object.fromEntries(
    r
      .ResourceRecordSets!.filter((s) => s.Name === `${domain}.` && s.SetIdentifier)
      .map((s) => [s.SetIdentifier!, s.Weight!]),
  );
}

/** A traffic percentage as the Route53 weight Senza writes for it. */
const percent = (p: number) => p * PERCENT_RESOLUTION;

async function liveStacks(): Promise<string[]> {
  const r = await client.cf().send(new ListStacksCommand({}));
  return r
    .StackSummaries!.filter((s) => s.StackStatus !== 'DELETE_COMPLETE')
    .map((s) => s.StackName!)
    .sort();
}

describe.skipIf(skip)('senza against moto_server', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/senza/cli/main.js')))
      throw new Error('the end to end tests run the built senza: npm run build first');
    work = await mkdtemp(join(tmpdir(), 'senza-moto-work-'));
    await startRegistry();
    moto = await startMoto();
    account = await seedStupsAccount(moto.endpoint);
  }, 120_000);

  afterAll(async () => {
    await moto?.stop();
    registryServer?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('init writes a webapp definition and creates its security groups and IAM role', async () => {
    await ok([
      'init',
      'hello.yaml',
      '-t',
      'webapp',
      '-v',
      'application_id=hello',
      '-v',
      `docker_image=${registry}/myteam/hello`,
      '-v',
      'http_port=8080',
      '-v',
      'loadbalancer_scheme=internet-facing',
    ]);
    const definition = parse(await readFile(join(work, 'hello.yaml'), 'utf8'));
    expect(definition.SenzaInfo.StackName).toBe('hello');
    const groups = await client.ec2().send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: 'group-name', Values: ['app-hello', 'app-hello-lb'] }],
      }),
    );
    expect(groups.SecurityGroups!.map((g) => g.VpcId)).toEqual([account.vpcId, account.vpcId]);
    const ports = Object.fromEntries(
      groups.SecurityGroups!.map((g) => [g.GroupName, g.IpPermissions!.map((p) => p.FromPort).sort()]),
    );
    expect(ports['app-hello']).toContain(8080);
    expect(ports['app-hello-lb']).toContain(443);
    const role = await client.iam().send(new GetRoleCommand({ RoleName: 'app-hello' }));
    expect(role.Role!.RoleName).toBe('app-hello');
  });

  it('print finds the newest Taupage image, the subnets by name and the certificate', async () => {
    const { stdout } = await ok(['print', 'hello.yaml', '1', '1.0']);
    const template = JSON.parse(stdout);
    templates.set('print hello 1', template);
    expect(template.Mappings.Images['eu-west-1'].LatestTaupageImage).toBe(TAUPAGE_IMAGES.latest.id);
    expect(template.Mappings.Images['eu-west-1'].LatestTaupageStagingImage).toBe(TAUPAGE_IMAGES.staging.id);
    expect(template.Mappings.ServerSubnets['eu-west-1'].Subnets.sort()).toEqual(
      [account.subnets['internal-eu-west-1a'], account.subnets['internal-eu-west-1b']].sort(),
    );
    expect(template.Mappings.LoadBalancerSubnets['eu-west-1'].Subnets.sort()).toEqual(
      [account.subnets['dmz-eu-west-1a'], account.subnets['dmz-eu-west-1b']].sort(),
    );
    expect(template.Resources.AppLoadBalancer.Properties.Listeners[0].SSLCertificateId).toBe(
      account.certificateArn,
    );
  });

  it('create --wait creates two versions in the emulator', async () => {
    for (const [version, image] of [
      ['1', '1.0'],
      ['2', '2.0'],
    ] as const) {
      const { stderr } = await ok(['create', '--wait', 'hello.yaml', version, image]);
      expect(stderr).toContain(`OK: Stack(s) hello-${version} created successfully.`);
      await storedTemplate(`hello-${version}`, `stack hello-${version}`);
      const group = await autoScalingGroup(`hello-${version}`);
      expect(group.LoadBalancerNames).toEqual([`hello-${version}`]);
      const lc = await launchConfiguration(group.LaunchConfigurationName!);
      expect(lc.ImageId).toBe(TAUPAGE_IMAGES.latest.id);
      expect(taupageConfig(lc.UserData!)).toMatchObject({
        source: `${registry}/myteam/hello:${image}`,
        application_id: 'hello',
        application_version: image,
        runtime: 'Docker',
        ports: { 8080: 8080 },
      });
    }
    expect(await liveStacks()).toEqual(['hello-1', 'hello-2']);
    const again = await senza(['create', 'hello.yaml', '1', '1.0']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('senza: Stack hello-1 already exists. Please choose another version.\n');
  });

  it('list and status show both versions with their instances', async () => {
    const list = JSON.parse((await ok(['list', 'hello', '-o', 'json'])).stdout);
    expect(list.map((s: { version: string; status: string }) => [s.version, s.status]).sort()).toEqual([
      ['1', 'CREATE_COMPLETE'],
      ['2', 'CREATE_COMPLETE'],
    ]);
    const status = JSON.parse((await ok(['status', 'hello', '-o', 'json'])).stdout);
    expect(status).toHaveLength(2);
    for (const row of status) expect(row).toMatchObject({ stack_name: 'hello', running_instances: 1 });
  });

  it('traffic moves the weighted main domain between the versions', async () => {
    await ok(['traffic', 'hello', '1', '100']);
    expect(await weights('hello.example.org')).toEqual({ 'hello-1': percent(100), 'hello-2': 0 });
    await ok(['traffic', 'hello', '2', '50']);
    expect(await weights('hello.example.org')).toEqual({ 'hello-1': percent(50), 'hello-2': percent(50) });
    await ok(['traffic', 'hello', '2', '100']);
    expect(await weights('hello.example.org')).toEqual({ 'hello-1': 0, 'hello-2': percent(100) });
    // The weights live in the stacks' templates too, so a stack update keeps them.
    for (const [stack, weight] of [
      ['hello-1', 0],
      ['hello-2', percent(100)],
    ] as const) {
      const template = (await storedTemplate(stack, `${stack} after traffic`)) as {
        Resources: Record<string, { Properties: { Weight?: number } }>;
      };
      expect(template.Resources.AppLoadBalancerMainDomain!.Properties.Weight).toBe(weight);
    }
    const shown = JSON.parse((await ok(['traffic', 'hello', '-o', 'json'])).stdout);
    expect(shown.map((r: { identifier: string; 'weight%': number }) => [r.identifier, r['weight%']])).toEqual(
      [
        ['hello-1', 0],
        ['hello-2', 100],
      ],
    );
  });

  it('patch gives the launch configuration another image and base64 user data', async () => {
    const before = await autoScalingGroup('hello-1');
    await ok([
      'patch',
      'hello',
      '1',
      '--image',
      'staging',
      '--user-data',
      `source: ${registry}/myteam/hello:1.1`,
    ]);
    const after = await autoScalingGroup('hello-1');
    expect(after.LaunchConfigurationName).not.toBe(before.LaunchConfigurationName);
    const lc = await launchConfiguration(after.LaunchConfigurationName!);
    expect(lc.ImageId).toBe(TAUPAGE_IMAGES.staging.id);
    const old = taupageConfig((await launchConfiguration(before.LaunchConfigurationName!)).UserData!);
    expect(taupageConfig(lc.UserData!)).toEqual({ ...old, source: `${registry}/myteam/hello:1.1` });
    // The other version is untouched.
    const other = await autoScalingGroup('hello-2');
    expect((await launchConfiguration(other.LaunchConfigurationName!)).ImageId).toBe(
      TAUPAGE_IMAGES.latest.id,
    );
  });

  it('respawn-instances replaces the instance launched from the old configuration', async () => {
    const before = await autoScalingGroup('hello-1');
    const oldIds = before.Instances!.map((i) => i.InstanceId!);
    expect(oldIds).toHaveLength(1);
    const { stderr } = await ok(['respawn-instances', 'hello', '1']);
    expect(stderr).toContain('1/1 instances need to be updated');
    expect(stderr).toContain(`Terminating old instance ${oldIds[0]}.. OK`);
    const after = await autoScalingGroup('hello-1');
    expect(after.SuspendedProcesses).toEqual([]);
    expect([after.MinSize, after.DesiredCapacity, after.MaxSize]).toEqual([
      before.MinSize,
      before.DesiredCapacity,
      before.MaxSize,
    ]);
    const fresh = after.Instances!.filter((i) => i.LifecycleState === 'InService').map((i) => i.InstanceId!);
    expect(fresh).toHaveLength(1);
    expect(fresh).not.toContain(oldIds[0]);
    const described = await client.ec2().send(new DescribeInstancesCommand({ InstanceIds: fresh }));
    expect(described.Reservations!.flatMap((r) => r.Instances!.map((i) => i.ImageId))).toEqual([
      TAUPAGE_IMAGES.staging.id,
    ]);
    expect((await ok(['respawn-instances', 'hello', '1'])).stderr).toContain('Nothing to do');
  });

  it('patches a launch template stack: a new template version with base64 user data', async () => {
    const bgapp = [
      'init',
      'worker.yaml',
      '-t',
      'bgapp',
      '-v',
      'application_id=worker',
      '-v',
      `docker_image=${registry}/myteam/worker`,
    ];
    await ok(bgapp);
    const file = join(work, 'worker.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text.replace(/^(\s+)InstanceType: (.*)$/m, '$1InstanceType: $2\n$1LaunchType: LaunchTemplate'),
    );
    await ok(['create', '--wait', 'worker.yaml', '1', '1.0']);
    await storedTemplate('worker-1', 'stack worker-1');
    const before = await autoScalingGroup('worker-1');
    const spec = before.LaunchTemplate!;
    await ok(['patch', 'worker', '1', '--user-data', `source: ${registry}/myteam/worker:1.1`]);
    const after = await autoScalingGroup('worker-1');
    expect(after.LaunchTemplate!.LaunchTemplateId).toBe(spec.LaunchTemplateId);
    expect(after.LaunchTemplate!.Version).not.toBe(spec.Version);
    const versions = await client.ec2().send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: spec.LaunchTemplateId,
        Versions: [spec.Version!, after.LaunchTemplate!.Version!],
      }),
    );
    const [old, patched] = versions.LaunchTemplateVersions!.sort(
      (a, b) => a.VersionNumber! - b.VersionNumber!,
    );
    expect(taupageConfig(patched!.LaunchTemplateData!.UserData!)).toEqual({
      ...taupageConfig(old!.LaunchTemplateData!.UserData!),
      source: `${registry}/myteam/worker:1.1`,
    });
    expect(patched!.LaunchTemplateData!.ImageId).toBe(old!.LaunchTemplateData!.ImageId);
  });

  it('init -t postgresapp and the launch-template worker print templates (for cfn-lint)', async () => {
    await ok(['init', 'spilo.yaml', '-t', 'postgresapp', '-v', `docker_image=${registry}/acid/spilo`]);
    templates.set('print spilo 1', JSON.parse((await ok(['print', 'spilo.yaml', '1'])).stdout));
    templates.set('print worker 2', JSON.parse((await ok(['print', 'worker.yaml', '2', '2.0'])).stdout));
  });

  it('delete refuses a version with traffic and removes the others', async () => {
    const refused = await senza(['delete', 'hello', '2']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Stack hello-2 has traffic!');
    await ok(['delete', 'hello', '1']);
    await ok(['delete', 'worker', '1']);
    expect(await liveStacks()).toEqual(['hello-2']);
    // Deleting version 1 leaves version 2's weighted record alone.
    expect(await weights('hello.example.org')).toEqual({ 'hello-2': percent(100) });
    await ok(['delete', '--force', 'hello', '2']);
    expect(await liveStacks()).toEqual([]);
    expect(await weights('hello.example.org')).toEqual({});
  });

  it('every template printed or stored in the emulator passes cfn-lint', async () => {
    expect([...templates.keys()].length).toBeGreaterThanOrEqual(8);
    expect(await cfnLintErrors(templates)).toEqual([]);
  }, 120_000);
});
