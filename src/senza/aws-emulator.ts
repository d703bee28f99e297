import { type ChildProcess, spawn } from 'node:child_process';
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
import type * as SelfsignedPackage from 'selfsigned';
import { lazyPackage } from '../platform/lazy-package.js';
import { CliError } from '../platform/cli/cli-error.js';
import type { CliIo } from '../platform/cli/run-cli.js';
import { fromProjectRoot } from '../platform/project-root.js';

// Loaded when a certificate is made, not at start-up (see lazyPackage).
const selfsigned = lazyPackage<typeof SelfsignedPackage>('selfsigned');

/*
 * `stups aws-emulator`: moto_server on loopback, seeded with what Senza needs from a STUPS
 * account, for trying Senza without an AWS account. The Senza end to end tests
 * (src/senza/test-support/moto.ts) use the same fixes and seed their account with `seedAccount`.
 */

/**
 * Python fixes for moto bugs Senza's flows run into (weighted Route53 records of two stack versions,
 * `senza patch`, `respawn-instances`; each is described in its sitecustomize.py), loaded by putting
 * this folder on moto_server's PYTHONPATH. Resolved from the checkout's root, wherever this module
 * was built to.
 */
export const MOTO_FIXES_DIR = fromProjectRoot('src', 'senza', 'moto-fixes');

/** moto's fixed account id: every ARN and image owner in the emulator uses it. */
export const EMULATOR_ACCOUNT = '123456789012';
export const EMULATOR_REGION = 'eu-west-1';
/** moto accepts any keys; these say plainly that nothing real is behind them. */
const KEYS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The Taupage image Senza's `StupsAutoConfiguration` looks for (newest `Taupage-AMI-*`). */
export const EMULATOR_TAUPAGE_AMI = { id: 'ami-0a1b2c3d4e5f60002', name: 'Taupage-AMI-20250301-120000' };

export interface AwsEmulatorOptions {
  port?: string;
  domain?: string;
  accountAlias?: string;
}

export interface SeededAccount {
  vpcId: string;
  subnets: Record<string, string>;
  zoneId: string;
  certificateArn: string;
}

/** The environment Senza (or any AWS SDK or CLI) needs to talk to the emulator. */
export function emulatorEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
    AWS_REGION: EMULATOR_REGION,
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 5000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CliError(`--port must be a port number (got "${value}")`, 2);
  return port;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ALIAS = /^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;

/**
 * Starts moto_server with the Taupage image (moto's `MOTO_AMIS_PATH`: images created through its
 * API always have root device type `standard`, which Senza's lookup for `ebs` never finds) and
 * the fixes of MOTO_FIXES_DIR. Resolves once it answers HTTP.
 */
async function startMotoServer(
  port: number,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; output: () => string }> {
  const amis = join(dir, 'amis.json');
  await writeFile(
    amis,
    JSON.stringify([
      {
        ami_id: EMULATOR_TAUPAGE_AMI.id,
        name: EMULATOR_TAUPAGE_AMI.name,
        state: 'available',
        public: false,
        owner_id: EMULATOR_ACCOUNT,
        root_device_type: 'ebs',
        root_device_name: '/dev/xvda',
        virtualization_type: 'hvm',
        architecture: 'x86_64',
        hypervisor: 'xen',
        image_type: 'machine',
        description: 'Taupage (emulated)',
      },
    ]),
  );
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: dir,
    env: {
      ...env,
      MOTO_AMIS_PATH: amis,
      PYTHONPATH: [MOTO_FIXES_DIR, env.PYTHONPATH].filter(Boolean).join(':'),
      // No __pycache__ written into the checkout the commands are installed from.
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CliError(
          error.code === 'ENOENT'
            ? "moto_server is not installed: pip install 'moto[server]' (the AWS emulator this command runs)"
            : `cannot start moto_server: ${error.message}`,
        ),
      ),
    );
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      reject(new CliError(`moto_server exited with ${code ?? 'a signal'}${last ? `: ${last}` : ''}`));
    });
  });
  const ready = (async () => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/moto-api/`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new CliError(`moto_server did not answer on port ${port} within a minute`);
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  // Later exits are reported by the caller; keep the rejection from going unhandled.
  failed.catch(() => undefined);
  // Python reports a fix that no longer fits moto and carries on without it: emulating less
  // than this command promises, so it stops instead.
  if (/Error in sitecustomize/.test(out)) {
    child.kill('SIGTERM');
    throw new CliError(
      `moto_server cannot load the fixes in ${MOTO_FIXES_DIR}: ${out.trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  return { child, output: () => out };
}

/**
 * A STUPS-style account: the alias, one VPC (moto's default VPC removed, as STUPS accounts have
 * their own) with `dmz-*` subnets for internet-facing load balancers and `internal-*` ones for
 * servers in two availability zones, a hosted zone and an ACM certificate for `*.<domain>`.
 */
export async function seedAccount(
  endpoint: string,
  domain: string,
  alias: string,
  callerReference = `stups-aws-emulator-${Date.now()}`,
): Promise<SeededAccount> {
  const config = { region: EMULATOR_REGION, endpoint, credentials: KEYS };
  const ec2 = new EC2Client(config);
  for (const s of (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [])
    await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
  for (const v of (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [])
    await ec2.send(new DeleteVpcCommand({ VpcId: v.VpcId }));
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId;
  if (!vpcId) throw new CliError('the emulator created a VPC without an id');
  const subnets: Record<string, string> = {};
  let n = 0;
  for (const kind of ['dmz', 'internal']) {
    for (const az of [`${EMULATOR_REGION}a`, `${EMULATOR_REGION}b`]) {
      const name = `${kind}-${az}`;
      const r = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: `10.0.${n++}.0/24`,
          AvailabilityZone: az,
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: name }] }],
        }),
      );
      if (r.Subnet?.SubnetId) subnets[name] = r.Subnet.SubnetId;
    }
  }
  const zone = await new Route53Client(config).send(
    new CreateHostedZoneCommand({ Name: domain, CallerReference: callerReference }),
  );
  const pems = await selfsigned().generate([{ name: 'commonName', value: `*.${domain}` }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: `*.${domain}` },
          { type: 2, value: domain },
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
  await new IAMClient(config).send(new CreateAccountAliasCommand({ AccountAlias: alias }));
  return {
    vpcId,
    subnets,
    zoneId: zone.HostedZone?.Id ?? '',
    certificateArn: certificate.CertificateArn ?? '',
  };
}

/** Runs the emulator until SIGINT/SIGTERM, printing what it holds and how to point Senza at it. */
export async function awsEmulator(options: AwsEmulatorOptions, io: CliIo): Promise<void> {
  // As in senza: no seven-line SDK warning about its 2027 Node requirement on every start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const port = parsePort(options.port);
  const domain = options.domain ?? 'example.org';
  if (!DOMAIN.test(domain))
    throw new CliError(`--domain must be a DNS domain like example.org (got "${domain}")`, 2);
  const alias = options.accountAlias ?? 'myorg-myteam';
  if (!ALIAS.test(alias))
    throw new CliError(`--account-alias must be lower-case letters, digits and dashes (got "${alias}")`, 2);

  const dir = await mkdtemp(join(tmpdir(), 'stups-aws-emulator-'));
  let moto: { child: ChildProcess; output: () => string } | undefined;
  const stop = async () => {
    if (moto && moto.child.exitCode === null && moto.child.signalCode === null) {
      const exited = new Promise((resolve) => moto?.child.once('exit', resolve));
      moto.child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${port}`;
  let account: SeededAccount;
  try {
    moto = await startMotoServer(port, dir, io.env);
    account = await seedAccount(endpoint, domain, alias);
  } catch (error) {
    await stop();
    if (error instanceof CliError) throw error;
    throw new CliError(
      `cannot seed the AWS emulator: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  const out = (line = '') => io.stdout.write(`${line}\n`);
  out(
    `AWS emulator (moto_server) on ${endpoint}: account ${EMULATOR_ACCOUNT} "${alias}", region ${EMULATOR_REGION}`,
  );
  out(`  VPC            ${account.vpcId}, subnets ${Object.keys(account.subnets).join(', ')}`);
  out(`  Taupage AMI    ${EMULATOR_TAUPAGE_AMI.id} (${EMULATOR_TAUPAGE_AMI.name})`);
  out(`  hosted zone    ${domain} (${account.zoneId.replace(/^\/hostedzone\//, '')})`);
  out(`  certificate    ${account.certificateArn} (*.${domain})`);
  out('Point Senza at it, in the shell you run senza from:');
  out(
    `  export ${Object.entries(emulatorEnv(endpoint))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  out('Everything lives in memory and is gone when the emulator stops. Stop with Ctrl-C.');

  const child = moto.child;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const onSignal = () => done();
    const onExit = (code: number | null) =>
      done(new CliError(`moto_server stopped unexpectedly (exit ${code ?? 'signal'})`));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    child.on('exit', onExit);
  }).finally(stop);
  out('AWS emulator stopped.');
}
