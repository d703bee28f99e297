import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvenKeyPair } from '../even/index.js';
import {
  bastionUnavailableReason,
  type LoopbackBastion,
  startLoopbackBastion,
} from '../odd/test-support/loopback-bastion.js';
import { runCli } from '../platform/cli/run-cli.js';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { sshKeygen } from '../platform/test-support/ssh-keygen.js';
import {
  MOTO_ACCOUNT,
  motoClientConfig,
  motoEnv,
  type RunningMoto,
  seedStupsAccount,
  startMoto,
  TAUPAGE_IMAGES,
} from '../senza/test-support/moto.js';
import { stupsProgram } from '../stups/cli/main.js';
import { freePortBlock } from '../stups/free-ports.js';
import { portOf } from '../stups/platform-config.js';
import { type RunningPlatform, startPlatform } from '../stups/runtime.js';
import { parseSettingsTree } from '../stups/settings.js';
import type { Trace } from './chain.js';

const unavailable = bastionUnavailableReason();
if (unavailable) console.warn(`SKIPPING the trace test with a real even grant on sshd: ${unavailable}`);

/**
 * Issue 21's "people who got SSH access to its instances (even, with reasons)": a team member
 * asks even for access to the instance (the loopback sshd with odd stands in for it, as in
 * Più's end-to-end test), even grants it on the real sshd, the member logs in, and Taupage's
 * audit log of that login reaches fullstop — `stups trace <instance>` names the member and the
 * reason, and the login with a grant is no break.
 */
describe.skipIf(unavailable !== undefined)('stups trace: SSH access granted through even', () => {
  let platform: RunningPlatform;
  let moto: RunningMoto;
  let bastion: LoopbackBastion;
  let dir: string;
  let instanceId: string;
  let member: string;
  let token: string;
  let key: { publicKey: string; privateKey: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stups-trace-ssh-'));
    moto = await startMoto();
    const account = await seedStupsAccount(moto.endpoint);
    const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: TAUPAGE_IMAGES.latest.id,
        SubnetId: account.subnets['internal-eu-west-1a'],
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        UserData: Buffer.from(
          '#taupage-ami-config\napplication_id: hello-world\napplication_version: "1.0"\nsource: demo/hello-world:1.0\n',
        ).toString('base64'),
      }),
    );
    instanceId = run.Instances![0]!.InstanceId!;
    ec2.destroy();

    // even's address must be known before the bastion starts (odd fetches keys from it).
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    const evenKeys = generateEvenKeyPair();
    const evenKeyFile = join(dir, 'even-key');
    await writeFile(evenKeyFile, evenKeys.privateKey, { mode: 0o600 });
    bastion = await startLoopbackBastion({
      evenUrl: `http://localhost:${portOf({ basePort }, 'even')}`,
      evenPublicKey: evenKeys.publicKey,
    });
    member = `${bastion.tag}-m`;
    key = await sshKeygen('ed25519', { comment: member });
    const orgFile = join(dir, 'org.yaml');
    await writeFile(
      orgFile,
      `teams:
  - { id: demo, name: Demo, members: [${member}], aws_accounts: ['${MOTO_ACCOUNT}'] }
users:
  - uid: ${member}
    name: Member
    email: m@example.org
    password: member-password-1
    ssh_keys: ['${key.publicKey}']
applications:
  - { id: hello-world, team_id: demo, name: Hello World }
`,
    );
    platform = await startPlatform(
      parseSettingsTree({
        platform: {
          dataDir: join(dir, 'data'),
          basePort,
          orgFile,
          logLevel: 'silent',
          aws: { region: 'eu-west-1', endpoint: moto.endpoint },
        },
        even: {
          // The loopback sshd is the instance: grants name it by its id.
          allowedHosts: [{ hostname: instanceId, teams: ['demo'], address: '127.0.0.1', port: bastion.port }],
          ssh: { user: bastion.grantingUser, knownHostKeys: [bastion.hostKey] },
          sshKeyFile: evenKeyFile,
        },
      }),
      { logger: silentLogger() },
    );
    expect(platform.urls.even).toBe(`http://localhost:${portOf({ basePort }, 'even')}`);
    const answer = await fetch(`${platform.urls['token-service']}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'zign',
        username: member,
        password: 'member-password-1',
        scope: 'uid',
      }),
    });
    expect(answer.status).toBe(200);
    token = ((await answer.json()) as { access_token: string }).access_token;
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await bastion?.stop();
    await moto?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function traceOf(id: string): Promise<Trace> {
    const io = await captureIo({
      env: {
        ...motoEnv(moto.endpoint),
        PIERONE_URL: platform.urls.pierone,
        KIO_URL: platform.urls.kio,
        STUPS_FULLSTOP_URL: platform.urls.fullstop,
        PIU_EVEN_URL: platform.urls.even,
        OAUTH2_ACCESS_TOKENS: `default=${token}`,
      },
    });
    await runCli(stupsProgram(io), ['trace', id, '-o', 'json'], io);
    await io.cleanup();
    expect(io.out(), io.err()).not.toBe('');
    return JSON.parse(io.out()) as Trace;
  }

  it('names who got access and why; a login with the grant is no break', async () => {
    const granted = await fetch(`${platform.urls.even}/access-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hostname: instanceId, reason: 'SHOP-42 look at the stuck checkout' }),
    });
    expect(await granted.text()).toBe(`Access to host ${instanceId} for user ${member} was granted.`);
    expect(await bastion.login(member, key.privateKey)).toEqual({ code: 0, stderr: '' });

    // Taupage pushes the sshd log of that login; even's grant covers it.
    const at = new Date().toISOString();
    const log = `${at} ip-10-0-1-5 sshd[812]: Accepted publickey for ${member} from 127.0.0.1 port 50022 ssh2\n`;
    const pushed = await fetch(`${platform.urls.fullstop}/api/instance-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        account_id: MOTO_ACCOUNT,
        region: 'eu-west-1',
        instance_boot_time: at.slice(0, 19).replace('T', ' '),
        instance_id: instanceId,
        log_type: 'AUDIT_LOG',
        log_data: Buffer.from(log).toString('base64'),
      }),
    });
    expect(await pushed.json()).toEqual({ violations: 0 });

    const trace = await traceOf(instanceId);
    const ssh = trace.links.find((l) => l.kind === 'ssh-access')!;
    expect(ssh).toMatchObject({ status: 'ok', label: member, facts: { grants: 1 } });
    expect(Object.values(ssh.facts)).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${member} via ${instanceId} \\(granted, [^)]+\\): SHOP-42 look at the stuck checkout$`),
      ),
    );
  });
});
