import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACMClient, ImportCertificateCommand } from '@aws-sdk/client-acm';
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateAccountAliasCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import selfsigned from 'selfsigned';
import { skipWithout } from '../../platform/test-support/required-parts.js';
import { freePorts } from '../../stups/free-ports.js';

/** moto's fixed account id: every ARN and image owner in the emulator uses it. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'eu-west-1';

/** The emulator's environment for an AWS client or a CLI child process: endpoint, dummy keys, region. */
export function motoEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: MOTO_REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export function motoClientConfig(endpoint: string) {
  return {
    region: MOTO_REGION,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/**
 * Whether tests needing moto_server must skip (it is not on PATH); throws instead when
 * `STUPS_REQUIRE` names moto_server.
 */
export function skipWithoutMoto(): boolean {
  const probe = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
  return skipWithout(
    'moto_server',
    probe.status === 0 ? undefined : `moto_server --help failed: ${probe.error?.message ?? probe.stderr}`,
  );
}

/**
 * Taupage images the emulator starts with: two of the `latest` channel (the newest wins) and one
 * of `staging`. moto's RegisterImage and CreateImage always describe an image with root device
 * type `standard`, so Senza's lookup (`root-device-type=ebs`, as on AWS) never finds them;
 * `MOTO_AMIS_PATH` is moto's own way to start with images of any attributes.
 */
export const TAUPAGE_IMAGES = {
  old: { id: 'ami-0a1b2c3d4e5f60001', name: 'Taupage-AMI-20250101-120000' },
  latest: { id: 'ami-0a1b2c3d4e5f60002', name: 'Taupage-AMI-20250301-120000' },
  staging: { id: 'ami-0a1b2c3d4e5f60003', name: 'TaupageStaging-AMI-20250310-120000' },
} as const;

export interface RunningMoto {
  endpoint: string;
  child: ChildProcess;
  /** Everything the emulator printed, for failure messages. */
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `moto_server` on a free loopback port with the Taupage images and the fixes in
 * `moto-fixes/sitecustomize.py` (moto bugs Senza's flows run into; each is described there).
 */
export async function startMoto(): Promise<RunningMoto> {
  const dir = await mkdtemp(join(tmpdir(), 'senza-moto-'));
  const amis = join(dir, 'amis.json');
  await writeFile(
    amis,
    JSON.stringify(
      Object.values(TAUPAGE_IMAGES).map((image) => ({
        ami_id: image.id,
        name: image.name,
        state: 'available',
        public: false,
        owner_id: MOTO_ACCOUNT,
        root_device_type: 'ebs',
        root_device_name: '/dev/xvda',
        virtualization_type: 'hvm',
        architecture: 'x86_64',
        hypervisor: 'xen',
        image_type: 'machine',
        description: 'Taupage',
      })),
    ),
  );
  const [port] = await freePorts(1);
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: dir,
    env: {
      ...process.env,
      MOTO_AMIS_PATH: amis,
      PYTHONPATH: [join(import.meta.dirname, 'moto-fixes'), process.env.PYTHONPATH].filter(Boolean).join(':'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const stop = async () => {
    await rm(dir, { recursive: true, force: true });
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  // Ready when it answers HTTP; a Python error (e.g. a fix that no longer fits moto) ends it.
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (attempt >= 600) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within a minute:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (/Error in sitecustomize/.test(out)) {
    await stop();
    throw new Error(`moto fixes did not load:\n${out}`);
  }
  return { endpoint, child, output: () => out, stop };
}

export interface StupsAccount {
  vpcId: string;
  /** Subnet ids by name, e.g. `dmz-eu-west-1a`. */
  subnets: Record<string, string>;
  zoneId: string;
  certificateArn: string;
}

/**
 * A STUPS-style account, seeded through the AWS API: alias `myorg-myteam`, one VPC (moto's
 * default VPC is removed, as STUPS accounts have their own) with `dmz-*` and `internal-*` subnets
 * in two AZs, the hosted zone `example.org` and an imported ACM certificate for `*.example.org`.
 */
export async function seedStupsAccount(endpoint: string): Promise<StupsAccount> {
  const config = motoClientConfig(endpoint);
  const ec2 = new EC2Client(config);
  for (const s of (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [])
    await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
  for (const v of (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [])
    await ec2.send(new DeleteVpcCommand({ VpcId: v.VpcId }));
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const subnets: Record<string, string> = {};
  let n = 0;
  for (const kind of ['dmz', 'internal']) {
    for (const az of [`${MOTO_REGION}a`, `${MOTO_REGION}b`]) {
      const name = `${kind}-${az}`;
      const r = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: `10.0.${n++}.0/24`,
          AvailabilityZone: az,
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: name }] }],
        }),
      );
      subnets[name] = r.Subnet!.SubnetId!;
    }
  }
  const zone = await new Route53Client(config).send(
    new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'senza-e2e' }),
  );
  const pems = await selfsigned.generate([{ name: 'commonName', value: '*.example.org' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: '*.example.org' },
          { type: 2, value: 'example.org' },
        ],
      },
    ],
  });
  const certificate = await new ACMClient(config).send(
    new ImportCertificateCommand({
      Certificate: Buffer.from(pems.cert),
      PrivateKey: Buffer.from(pems.private),
    }),
  );
  await new IAMClient(config).send(new CreateAccountAliasCommand({ AccountAlias: 'myorg-myteam' }));
  return { vpcId, subnets, zoneId: zone.HostedZone!.Id!, certificateArn: certificate.CertificateArn! };
}
