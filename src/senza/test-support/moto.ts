import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithout } from '../../platform/test-support/required-parts.js';
import { MOTO_FIXES_DIR, type SeededAccount, seedAccount } from '../aws-emulator.js';
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
 * Starts `moto_server` on a free loopback port with the Taupage images and the fixes the product's
 * emulator loads (MOTO_FIXES_DIR: moto bugs Senza's flows run into; each is described there).
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
      PYTHONPATH: [MOTO_FIXES_DIR, process.env.PYTHONPATH].filter(Boolean).join(':'),
      // No __pycache__ written into the checkout (the fixes live in src/).
      PYTHONDONTWRITEBYTECODE: '1',
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

/** The seeded account's ids; subnets by name, e.g. `dmz-eu-west-1a`. */
export type StupsAccount = SeededAccount;

/**
 * A STUPS-style account, seeded as `stups aws-emulator` seeds it (src/senza/aws-emulator.ts): alias
 * `myorg-myteam`, one VPC (moto's default VPC is removed, as STUPS accounts have their own) with
 * `dmz-*` and `internal-*` subnets in two AZs, the hosted zone `example.org` and an imported ACM
 * certificate for `*.example.org`.
 */
export async function seedStupsAccount(endpoint: string): Promise<StupsAccount> {
  return seedAccount(endpoint, 'example.org', 'myorg-myteam', 'senza-e2e');
}
