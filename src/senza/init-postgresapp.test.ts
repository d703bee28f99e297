import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateRoleCommand,
  GetRoleCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeEach, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { senzaProgram } from './cli/main.js';
import { mockAws, stupsAccount } from './test-support/aws-mocks.js';
import { checkTemplate } from './test-support/cfn-spec.js';

const aws = mockAws();
afterAll(() => aws.restore());
beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
  aws.iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
  aws.iam.on(CreateRoleCommand).resolves({});
  aws.iam.on(PutRolePolicyCommand).resolves({});
  aws.ec2.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
  aws.ec2.on(CreateTagsCommand).resolves({});
  aws.ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({});
});

async function senza(args: string[], cwd: string) {
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1' } });
  io.cwd = cwd;
  const code = await runCli(senzaProgram({ io }), args, io);
  await io.cleanup();
  return { code, out: io.out(), err: io.err() };
}

function cfnLint(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('cfn-lint', ['--format', 'parseable', file], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

it('senza init -t postgresapp writes a definition whose data volume is created per instance', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'senza-pg-'));
  try {
    const init = await senza(
      ['init', 'pg.yaml', '-t', 'postgresapp', '-v', 'application_id=myapp', '-v', 'volume_size=50'],
      dir,
    );
    expect(init.code).toBe(0);
    const definition = parse(await readFile(join(dir, 'pg.yaml'), 'utf8'));
    const server = definition.SenzaComponents[1].AppServer;
    // Nothing creates a named volume: the data lives on the instance's own EBS volume.
    expect(server.TaupageConfig.volumes).toBeUndefined();

    const printed = await senza(['print', '--force', 'pg.yaml', '7', '3.0-p1'], dir);
    expect(printed.err).toBe('Generating Cloud Formation template.. OK\n');
    expect(printed.code).toBe(0);
    const template = JSON.parse(printed.out);
    expect(checkTemplate(template)).toEqual([]);
    const launch = template.Resources.AppServerConfig.Properties;
    const devices = (
      launch.BlockDeviceMappings as { DeviceName: string; Ebs?: Record<string, unknown> }[]
    ).map((m) => [m.DeviceName, m.Ebs]);
    expect(devices).toEqual([
      ['/dev/xvdk', { VolumeSize: 50, VolumeType: 'gp3', DeleteOnTermination: true }],
    ]);
    const userData = parse(launch.UserData['Fn::Base64'], { version: '1.1' });
    // Every mounted partition is a device the launch configuration attaches, and nothing else.
    const partitions = Object.values(userData.mounts as Record<string, { partition: string }>).map(
      (m) => m.partition,
    );
    expect(partitions).toEqual(['/dev/xvdk']);
    expect(userData.volumes).toBeUndefined();
    expect(userData.environment.SCOPE).toBe('myapp-7');
    expect(userData.etcd_discovery_domain).toBe('postgres.example.org');
    expect(template.Resources.AppServer.Properties).toMatchObject({ MinSize: 3, MaxSize: 3 });

    // The mocked account's security group ids are short names (sg-myapp); real ids are hex.
    await writeFile(join(dir, 'pg.json'), printed.out.replace(/"sg-[a-z]+"/g, '"sg-0123456789abcdef0"'));
    const lint = await cfnLint(join(dir, 'pg.json'));
    // cfn-lint's exit code is a bit set: 2 = errors (4 = warnings, 8 = informational).
    expect(lint.output.split('\n').filter((l) => /:E\d+:/.test(l))).toEqual([]);
    expect(lint.code & 2).toBe(0);
  } finally {
    await rm(dir, { recursive: true });
  }
}, 60_000);
