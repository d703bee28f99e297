import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateImageCommand,
  CreateKeyPairCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInstances, writeCloudTrailFile } from '../fullstop/test-support/cloudtrail-records.js';
import { pieroneProgram } from '../pierone/cli/main.js';
import { preAuthEncoding } from '../pierone/provenance/dsse.js';
import { copyArgs, ImageBuilder, skopeo } from '../pierone/test-support/registry-harness.js';
import { runCli } from '../platform/cli/run-cli.js';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import {
  MOTO_ACCOUNT,
  motoClientConfig,
  motoEnv,
  type RunningMoto,
  seedStupsAccount,
  startMoto,
  type StupsAccount,
  TAUPAGE_IMAGES,
} from '../senza/test-support/moto.js';
import { senzaProgram } from '../senza/cli/main.js';
import { stupsProgram } from '../stups/cli/main.js';
import { freePortBlock, freePorts } from '../stups/free-ports.js';
import { type RunningPlatform, startPlatform } from '../stups/runtime.js';
import { parseSettingsTree } from '../stups/settings.js';
import { allLinks, type Trace } from './chain.js';

const ORG = `
admins: [admin]
teams:
  - { id: demo, name: Demo, members: [jdoe], aws_accounts: ['123456789012'] }
  - { id: ops, name: Ops, members: [admin], aws_accounts: ['111111111111'] }
users:
  - { uid: admin, name: Admin, email: admin@example.org, password: admin-password-1 }
  - { uid: jdoe, name: Jane, email: jdoe@example.org, password: jdoe-password-1 }
applications:
  - { id: hello-world, team_id: demo, name: Hello World }
  - { id: retired, team_id: demo, name: Retired, active: false }
service_users:
  - name: stups_reporter
    application: hello-world
    team: demo
    scopes: [fullstop.violation.write]
`;
const SENZA_DEFINITION = (host: string) => `SenzaInfo:
  StackName: hello-world
  Parameters:
    - ImageVersion:
        Description: Docker image version of hello-world
SenzaComponents:
  - Configuration:
      Type: Senza::StupsAutoConfiguration
  - AppServer:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: t2.micro
      AssociatePublicIpAddress: false
      TaupageConfig:
        runtime: Docker
        application_version: '{{Arguments.ImageVersion}}'
        source: '${host}/demo/hello-world:{{Arguments.ImageVersion}}'
  - AppLoadBalancer:
      Type: Senza::WeightedDnsElasticLoadBalancer
      HTTPPort: 8080
      HealthCheckPath: /
      SecurityGroups: []
      Scheme: internet-facing
`;
const BUILDER = 'https://ci.example.org/builders/stups-ci@v1';
const DSSE = 'application/vnd.dsse.envelope.v1+json';

/**
 * Issue 21 end to end on the whole platform (PGlite) and moto_server: Kio knows the app, Pier One
 * holds images pushed with skopeo (scm-source.json naming commits of a real git repository) and
 * their signed provenance, EC2 runs instances whose Taupage user data names app and image,
 * fullstop has a violation — `stups trace <instance>` walks it all, and each link broken in turn
 * is named alone.
 */
describe('stups trace', () => {
  let platform: RunningPlatform;
  let moto: RunningMoto;
  let dir: string;
  let images: ImageBuilder;
  let token: string;
  let host: string;
  let ec2: EC2Client;
  let account: StupsAccount;
  let reporter: string;
  let expires: Date;
  let gitDaemon: ChildProcess | undefined;
  let remoteRepo: string;
  const commits: Record<'ticket' | 'noTicket', string> = { ticket: '', noTicket: '' };

  const git = (repo: string, ...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Jane',
        GIT_AUTHOR_EMAIL: 'j@example.org',
        GIT_COMMITTER_NAME: 'Jane',
        GIT_COMMITTER_EMAIL: 'j@example.org',
      },
    }).trim();

  async function passwordToken(): Promise<string> {
    const answer = await fetch(`${platform.urls['token-service']}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'zign',
        username: 'jdoe',
        password: 'jdoe-password-1',
        scope: 'uid',
      }),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { access_token: string }).access_token;
  }

  async function serviceToken(name: string, scope: string): Promise<string> {
    const credentials = join(dir, 'data', 'credentials', name);
    const user = JSON.parse(await readFile(join(credentials, 'user.json'), 'utf8'));
    const client = JSON.parse(await readFile(join(credentials, 'client.json'), 'utf8'));
    const answer = await fetch(`${platform.urls['token-service']}/oauth2/access_token?realm=/services`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.application_username,
        password: user.application_password,
        scope,
      }),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { access_token: string }).access_token;
  }

  async function push(tag: string, files: Record<string, string>, artifact = 'hello-world') {
    const image = await images.image(tag, [files]);
    const pushed = await skopeo([
      ...copyArgs({ destToken: token }),
      image,
      `docker://${host}/demo/${artifact}:${tag}`,
    ]);
    if (pushed.code !== 0) throw new Error(`push of ${tag} failed: ${pushed.stderr}`);
  }

  async function attest(tag: string, artifact = 'hello-world', extra: string[] = []) {
    const io = await captureIo({
      env: { PIERONE_URL: platform.urls.pierone, OAUTH2_ACCESS_TOKENS: `default=${token}` },
    });
    const code = await runCli(
      pieroneProgram({ io }),
      ['attest', `demo/${artifact}:${tag}`, '--builder-id', BUILDER, ...extra],
      io,
    );
    await io.cleanup();
    if (code !== 0) throw new Error(`attest ${tag} failed: ${io.err()}`);
  }

  const registry = (path: string, init: RequestInit = {}) =>
    fetch(`${platform.urls.pierone}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
    });

  /** Attaches a DSSE envelope signed with a key Pier One never published, as any pusher could. */
  async function attachForgedProvenance(tag: string) {
    const head = await registry(`/v2/demo/hello-world/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const subject = head.headers.get('docker-content-digest')!;
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `${host}/demo/hello-world`, digest: { sha256: subject.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://stups.io/provenance/ci-build/v1',
          externalParameters: {},
          resolvedDependencies: [{ uri: 'forged', digest: { gitCommit: commits.ticket } }],
        },
        runDetails: { builder: { id: BUILDER } },
      },
    };
    const payload = Buffer.from(JSON.stringify(statement));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sig = sign('sha256', preAuthEncoding('application/vnd.in-toto+json', payload), {
      key: privateKey,
      dsaEncoding: 'der',
    });
    const envelope = JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: payload.toString('base64'),
      signatures: [{ keyid: 'forger', sig: sig.toString('base64') }],
    });
    const blob = async (data: string) => {
      const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(data).digest('hex')}`;
      const r = await registry(`/v2/demo/hello-world/blobs/uploads/?digest=${digest}`, {
        method: 'POST',
        body: data,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(r.status).toBe(201);
      return { digest, size: Buffer.byteLength(data) };
    };
    const layer = await blob(envelope);
    const empty = await blob('{}');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: DSSE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
      layers: [{ mediaType: DSSE, ...layer }],
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: subject,
        size: Number(head.headers.get('content-length')),
      },
    });
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(manifest).digest('hex')}`;
    const put = await registry(`/v2/demo/hello-world/manifests/${digest}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status).toBe(201);
  }

  async function instance(
    userData: Record<string, string>,
    tags: Record<string, string> = {},
    imageId: string = TAUPAGE_IMAGES.latest.id,
    launch: { keyName?: string; publicIp?: boolean } = {},
  ): Promise<string> {
    const yaml = Object.entries(userData)
      .map(([k, v]) => `${k}: "${v}"`)
      .join('\n');
    const subnet = account.subnets['internal-eu-west-1a'];
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        ...(launch.publicIp
          ? { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet, AssociatePublicIpAddress: true }] }
          : { SubnetId: subnet }),
        ...(launch.keyName ? { KeyName: launch.keyName } : {}),
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        ...(Object.keys(tags).length
          ? {
              TagSpecifications: [
                {
                  ResourceType: 'instance',
                  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
                },
              ],
            }
          : {}),
        UserData: Buffer.from(`#taupage-ami-config\n${yaml}\n`).toString('base64'),
      }),
    );
    return run.Instances![0]!.InstanceId!;
  }

  async function trace(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = await captureIo({
      env: {
        ...motoEnv(moto.endpoint),
        PIERONE_URL: platform.urls.pierone,
        KIO_URL: platform.urls.kio,
        STUPS_FULLSTOP_URL: platform.urls.fullstop,
        PIU_EVEN_URL: platform.urls.even,
        STUPS_TEAM_SERVICE_URL: platform.urls.teams,
        OAUTH2_ACCESS_TOKENS: `default=${token}`,
      },
    });
    const code = await runCli(stupsProgram(io), ['trace', ...args], io);
    await io.cleanup();
    return { code, out: io.out(), err: io.err() };
  }

  /** Senza itself, in-process, against moto (the SDK's default chain reads the keys from process.env). */
  async function senza(args: string[]) {
    const io = await captureIo({
      env: {
        ...motoEnv(moto.endpoint),
        PIERONE_URL: platform.urls.pierone,
        OAUTH2_ACCESS_TOKENS: `default=${token}`,
      },
    });
    io.cwd = dir;
    const code = await runCli(senzaProgram({ io, sleep: async () => {} }), args, io);
    await io.cleanup();
    if (code !== 0) throw new Error(`senza ${args.join(' ')} failed: ${io.err()}`);
  }

  /**
   * What CloudTrail delivers for a launch: the RunInstances record in a gzipped log file, written
   * where fullstop's configured folder source reads (the platform's default, <dataDir>/fullstop/
   * cloudtrail); then fullstop's ingestion job runs, as its schedule would run it.
   */
  async function deliverLaunchToFullstop(instanceId: string, eventId: string) {
    const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const launched = Reservations![0]!.Instances![0]!;
    const record = runInstances({
      account: MOTO_ACCOUNT,
      region: 'eu-west-1',
      eventId,
      time: launched.LaunchTime!.toISOString(),
      instanceIds: [instanceId],
      imageId: launched.ImageId!,
      ...(launched.KeyName ? { keyName: launched.KeyName } : {}),
      subnetId: launched.SubnetId!,
      ...(launched.PublicIpAddress ? { publicIp: launched.PublicIpAddress } : {}),
    });
    await writeCloudTrailFile(
      join(dir, 'data', 'fullstop', 'cloudtrail'),
      { account: MOTO_ACCOUNT, region: 'eu-west-1', day: '2026-11-28', name: `20261128T0400Z_${eventId}` },
      [record],
    );
    await platform.runJob('fullstop.ingest-folder');
  }

  async function traceJson(subject: string): Promise<{ code: number; trace: Trace; broken: string[] }> {
    const run = await trace([subject, '--verify', '-o', 'json']);
    expect(run.out, run.err).not.toBe('');
    const parsed = JSON.parse(run.out) as Trace;
    return {
      code: run.code,
      trace: parsed,
      broken: allLinks(parsed.links)
        .filter((l) => l.status === 'broken')
        .map((l) => l.kind),
    };
  }

  const source = (tag: string) => `${host}/demo/hello-world:${tag}`;
  let whole: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stups-trace-'));
    const orgFile = join(dir, 'org.yaml');
    await writeFile(orgFile, ORG);
    moto = await startMoto();
    account = await seedStupsAccount(moto.endpoint);
    // Senza's SDK clients (and the platform's) take the keys from the default chain.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    platform = await startPlatform(
      parseSettingsTree({
        platform: {
          dataDir: join(dir, 'data'),
          basePort: await freePortBlock(PORT_BLOCK_SIZE),
          orgFile,
          logLevel: 'silent',
          aws: { region: 'eu-west-1', endpoint: moto.endpoint },
        },
      }),
      { logger: silentLogger() },
    );
    ec2 = new EC2Client(motoClientConfig(moto.endpoint));
    host = new URL(platform.urls.pierone).host;
    token = await passwordToken();

    // The application's repository: one commit for a ticket, one without.
    const repo = join(dir, 'repo');
    execFileSync('git', ['init', '--quiet', repo]);
    await writeFile(join(repo, 'app.py'), 'print(1)\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'SHOP-42 say hello');
    commits.ticket = git(repo, 'rev-parse', 'HEAD');
    await writeFile(join(repo, 'app.py'), 'print(2)\n');
    git(repo, 'commit', '--quiet', '-am', 'tidy up');
    commits.noTicket = git(repo, 'rev-parse', 'HEAD');
    const scm = (revision: string, status = '') =>
      JSON.stringify({ url: repo, revision, author: 'jdoe', status });

    // The same repository served by git daemon on loopback: a scm-source URL the trace must clone.
    const [gitPort] = await freePorts(1);
    gitDaemon = spawn(
      'git',
      [
        'daemon',
        '--verbose',
        '--export-all',
        `--base-path=${dir}`,
        '--listen=127.0.0.1',
        `--port=${gitPort}`,
        dir,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let said = '';
      gitDaemon!.stderr!.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (/Ready to rumble/.test(said)) resolve();
      });
      gitDaemon!.once('exit', (code) => reject(new Error(`git daemon exited with ${code}: ${said}`)));
    });
    remoteRepo = `git://127.0.0.1:${gitPort}/repo`;

    images = await ImageBuilder.create();
    await push('1.0', { 'scm-source.json': scm(commits.ticket), 'app/run.sh': 'echo 1' });
    await push('2.0', { 'scm-source.json': scm(commits.ticket, 'M app.py'), 'app/run.sh': 'echo 2' });
    await push('3.0', { 'app/run.sh': 'no scm-source' });
    await push('4.0', { 'scm-source.json': scm(commits.ticket), 'app/run.sh': 'echo 4' });
    await push('5.0', { 'scm-source.json': scm(commits.noTicket), 'app/run.sh': 'echo 5' });
    await push('6.0', {
      'scm-source.json': JSON.stringify({
        url: remoteRepo,
        revision: commits.ticket,
        author: 'jdoe',
        status: '',
      }),
      'app/run.sh': 'echo 6',
    });
    for (const tag of ['1.0', '2.0', '5.0']) await attest(tag);
    await attachForgedProvenance('4.0');

    // The walkthrough's instance, launched the way that breaks two of fullstop's rules: with an
    // SSH key pair, and with a public IP in an internal subnet. fullstop learns it from CloudTrail.
    await ec2.send(new CreateKeyPairCommand({ KeyName: 'break-glass' }));
    whole = await instance(
      { application_id: 'hello-world', application_version: '1.0', source: source('1.0') },
      {},
      TAUPAGE_IMAGES.latest.id,
      { keyName: 'break-glass', publicIp: true },
    );
    await deliverLaunchToFullstop(whole, 'ct-run-whole');
    reporter = await serviceToken('stups_reporter', 'fullstop.violation.write');
    // The key pair is covered by a risk acceptance of the team (CloudTrail names no application).
    expires = new Date(Date.now() + 30 * 86_400_000);
    const acceptance = await fetch(`${platform.urls.fullstop}/api/risk-acceptances`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        criteria: { types: ['EC2_WITH_KEYPAIR'] },
        reason: 'break-glass key until the migration (SHOP-7)',
        team: 'demo',
        expires: expires.toISOString(),
      }),
    });
    expect(acceptance.status, await acceptance.clone().text()).toBe(201);

    // Deployed with Senza: version 1 runs image 1.0 with all the traffic, version 2 runs 5.0 with none.
    await writeFile(join(dir, 'hello.yaml'), SENZA_DEFINITION(host));
    await senza(['create', 'hello.yaml', '1', '1.0']);
    await senza(['traffic', 'hello-world', '1', '100']);
    await senza(['create', 'hello.yaml', '2', '5.0']);
  }, 240_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    if (gitDaemon && gitDaemon.exitCode === null) {
      const exited = new Promise((resolve) => gitDaemon!.once('exit', resolve));
      gitDaemon.kill('SIGTERM');
      await exited;
    }
    await platform?.stop();
    await moto?.stop();
    await images?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('walks instance → AMI → Taupage config → image → scm-source → provenance → ticket → Kio app → deployments → SSH access → violations and acceptances', async () => {
    const { code, trace: t, broken } = await traceJson(whole);
    expect(broken).toEqual([]);
    expect(code).toBe(0);
    expect(t.whole).toBe(true);
    expect(t.links.map((l) => [l.kind, l.status])).toEqual([
      ['instance', 'ok'],
      ['ami', 'ok'],
      ['taupage-config', 'ok'],
      ['image', 'ok'],
      ['scm-source', 'ok'],
      ['provenance', 'ok'],
      ['ticket', 'ok'],
      ['kio-app', 'ok'],
      ['deployments', 'ok'],
      ['ssh-access', 'ok'],
      ['violations', 'ok'],
    ]);
    const byKind = Object.fromEntries(t.links.map((l) => [l.kind, l]));
    expect(byKind.instance!.facts).toMatchObject({
      account: MOTO_ACCOUNT,
      team: 'demo',
      region: 'eu-west-1',
      launched: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ami: TAUPAGE_IMAGES.latest.id,
    });
    expect(byKind['scm-source']!.facts).toMatchObject({ revision: commits.ticket, clean: true });
    expect(byKind.provenance!.facts).toMatchObject({
      builder: BUILDER,
      commit: commits.ticket,
      invoker: 'jdoe',
    });
    expect(byKind.ticket!.label).toBe('SHOP-42');
    expect(byKind['kio-app']!.facts).toMatchObject({ team: 'demo', active: true });
    expect(byKind.ami!.facts).toMatchObject({ name: TAUPAGE_IMAGES.latest.name, taupage: 'current' });
    expect(byKind.deployments!.facts).toMatchObject({
      stacks: 1,
      'hello-world-1': expect.stringMatching(/^100% traffic \(/),
    });
    expect(byKind['ssh-access']).toMatchObject({ label: 'nobody', facts: { grants: 0 } });
    expect(byKind.violations!.facts).toMatchObject({ open: 1, accepted: 1 });
    expect(Object.values(byKind.violations!.facts)).toContainEqual(
      `EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP on ${whole}`,
    );
    expect(Object.values(byKind.violations!.facts)).toContainEqual(
      `EC2_WITH_KEYPAIR on ${whole} — accepted by risk acceptance #1 (team demo, by jdoe, until ${expires.toISOString()}: break-glass key until the migration (SHOP-7))`,
    );

    const text = await trace([whole, '--verify']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/✓ ticket: SHOP-42/);
    expect(text.out).toMatch(/chain whole\n$/);
  });

  it('fullstop found the walkthrough instance’s violations in its CloudTrail launch record', async () => {
    const violations = async (query: string) => {
      const answer = await fetch(
        `${platform.urls.fullstop}/api/violations?instance-ids=${whole}&accounts=${MOTO_ACCOUNT}&${query}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(answer.status).toBe(200);
      return ((await answer.json()) as { content: Array<Record<string, unknown>> }).content.map((v) => ({
        type: (v.violation_type as { id: string }).id,
        event_id: v.event_id,
        created_by: v.created_by,
        application_id: v.application_id,
        rule_id: v.rule_id,
      }));
    };
    expect(await violations('checked=false')).toEqual([
      {
        type: 'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP',
        event_id: 'ct-run-whole',
        created_by: 'fullstop',
        application_id: null,
        rule_id: null,
      },
    ]);
    expect(await violations('whitelisted=true')).toEqual([
      {
        type: 'EC2_WITH_KEYPAIR',
        event_id: 'ct-run-whole',
        created_by: 'fullstop',
        application_id: null,
        rule_id: 1,
      },
    ]);
  });

  it('names each broken link alone and exits 1', async () => {
    const own = await ec2.send(new CreateImageCommand({ InstanceId: whole, Name: 'my-own-image-1' }));
    const ok = { application_id: 'hello-world', application_version: '1.0', source: source('1.0') };
    const cases: Array<[string, Record<string, string>, string[], RegExp, string?]> = [
      ['not a Taupage AMI', ok, ['ami'], /^not a Taupage AMI: its name "my-own-image-1"/, own.ImageId!],
      [
        'outdated Taupage',
        ok,
        ['ami'],
        new RegExp(
          `^outdated Taupage: a newer Taupage AMI exists: ${TAUPAGE_IMAGES.latest.id} \\(${TAUPAGE_IMAGES.latest.name}\\)$`,
        ),
        TAUPAGE_IMAGES.old.id,
      ],
      [
        'image not in Pier One',
        { application_id: 'hello-world', application_version: '9.9', source: source('9.9') },
        ['image'],
        /image not in Pier One/,
      ],
      [
        'dirty build',
        { application_id: 'hello-world', application_version: '2.0', source: source('2.0') },
        ['scm-source'],
        /dirty build/,
      ],
      // Pier One refuses to sign provenance for an image without scm-source.json, so such an
      // image always lacks provenance as well: two links, both named.
      [
        'no scm-source',
        { application_id: 'hello-world', application_version: '3.0', source: source('3.0') },
        ['scm-source', 'provenance'],
        /no scm-source/,
      ],
      [
        'forged provenance',
        { application_id: 'hello-world', application_version: '4.0', source: source('4.0') },
        ['provenance'],
        /provenance invalid: KEY_UNKNOWN/,
      ],
      [
        'ticket not found',
        { application_id: 'hello-world', application_version: '5.0', source: source('5.0') },
        ['ticket'],
        /ticket not found/,
      ],
      [
        'app unknown',
        { application_id: 'no-such-app', application_version: '1.0', source: source('1.0') },
        ['kio-app'],
        /app unknown/,
      ],
      [
        'app inactive',
        { application_id: 'retired', application_version: '1.0', source: source('1.0') },
        ['kio-app'],
        /app inactive/,
      ],
      [
        'version mismatch',
        { application_id: 'hello-world', application_version: '2.0', source: source('1.0') },
        ['taupage-config'],
        /version mismatch/,
      ],
      [
        'no source in the Taupage config',
        { application_id: 'hello-world' },
        ['taupage-config'],
        /names no source/,
      ],
    ];
    for (const [name, userData, kinds, why, imageId] of cases) {
      const id = await instance(userData, {}, imageId);
      const { code, trace: t, broken } = await traceJson(id);
      expect(broken, name).toEqual(kinds);
      expect(code, name).toBe(1);
      expect(t.whole, name).toBe(false);
      expect(allLinks(t.links).find((l) => l.kind === kinds[0])!.why, name).toMatch(why);
    }
  });

  it('names an SSH login fullstop saw without an even grant as a break of the SSH access', async () => {
    const id = await instance({
      application_id: 'hello-world',
      application_version: '1.0',
      source: source('1.0'),
    });
    // What Taupage pushes: sshd's log; nobody asked even for access to this host.
    const log =
      '2026-11-28T04:00:01.000000+00:00 ip-10-0-1-5 sshd[812]: Accepted publickey for mallory from 10.0.0.9 port 50022 ssh2: ED25519 SHA256:x\n';
    const pushed = await fetch(`${platform.urls.fullstop}/api/instance-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reporter}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        account_id: MOTO_ACCOUNT,
        region: 'eu-west-1',
        instance_boot_time: '2026-11-28 03:59:00',
        instance_id: id,
        log_type: 'AUDIT_LOG',
        log_data: Buffer.from(log).toString('base64'),
      }),
    });
    expect(await pushed.json()).toEqual({ violations: 1 });
    const { code, trace: t, broken } = await traceJson(id);
    expect(broken).toEqual(['ssh-access']);
    expect(code).toBe(1);
    const ssh = t.links.find((l) => l.kind === 'ssh-access')!;
    expect(ssh.why).toBe('login without a grant: mallory (1 login(s))');
    expect(Object.values(ssh.facts)).toContainEqual(
      'mallory at 2026-11-28T04:00:01.000Z from 10.0.0.9 without a grant',
    );
  });

  it('names the deployments of the version: stacks with their traffic, none, or none with traffic', async () => {
    const deployments = async (tag: string) =>
      (await traceJson(source(tag))).trace.links.find((l) => l.kind === 'deployments')!;
    expect(await deployments('1.0')).toMatchObject({
      status: 'ok',
      label: 'hello-world 1.0',
      facts: { stacks: 1, 'hello-world-1': expect.stringMatching(/^100% traffic/) },
    });
    expect(await deployments('5.0')).toMatchObject({
      status: 'warning',
      why: 'no traffic: hello-world-2 at 0% of the weighted DNS',
      facts: { 'hello-world-2': expect.stringMatching(/^0% traffic/) },
    });
    expect(await deployments('4.0')).toMatchObject({
      status: 'warning',
      why: 'not deployed: no Senza stack runs hello-world 4.0',
    });
    // A warning is named, not a break: the image 1.0 of a stack without traffic would still be whole.
    const text = await trace([source('5.0')]);
    expect(text.out).toMatch(/! deployments: hello-world 5\.0\n\s+NOTE: no traffic: hello-world-2 at 0%/);
  });

  it('reads the ticket from a repository it has to clone (git daemon on loopback)', async () => {
    const { trace: t } = await traceJson(source('6.0'));
    expect(t.links.find((l) => l.kind === 'scm-source')).toMatchObject({
      status: 'ok',
      facts: { repository: remoteRepo },
    });
    expect(t.links.find((l) => l.kind === 'ticket')).toMatchObject({
      status: 'ok',
      label: 'SHOP-42',
      facts: { source: 'commit message', commit_subject: 'SHOP-42 say hello' },
    });
  });

  /** An instance launched in `other` (moto keys resources by the account of the assumed role's credentials). */
  async function instanceInAccount(other: string): Promise<string> {
    const sts = new STSClient(motoClientConfig(moto.endpoint));
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${other}:role/fullstop`, RoleSessionName: 'test' }),
    );
    sts.destroy();
    const otherEc2 = new EC2Client({
      ...motoClientConfig(moto.endpoint),
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      },
    });
    const run = await otherEc2.send(
      new RunInstancesCommand({
        ImageId: TAUPAGE_IMAGES.latest.id,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        UserData: Buffer.from(
          `application_id: hello-world\napplication_version: "1.0"\nsource: ${source('1.0')}\n`,
        ).toString('base64'),
      }),
    );
    otherEc2.destroy();
    return run.Instances![0]!.InstanceId!;
  }

  it('reads an instance in another account through the read role (--account, --role)', async () => {
    const other = '111111111111';
    const id = await instanceInAccount(other);
    const own = await traceJson(id);
    expect(own.trace.links[0]).toMatchObject({
      kind: 'instance',
      status: 'broken',
      why: 'instance unknown to EC2',
    });
    const run2 = await trace([id, '--account', other, '--role', 'fullstop', '-o', 'json']);
    const t = JSON.parse(run2.out) as Trace;
    expect(t.links[0]).toMatchObject({ kind: 'instance', status: 'ok', facts: { account: other } });
    expect(t.links.find((l) => l.kind === 'taupage-config')).toMatchObject({ status: 'ok' });
  });

  it('GET /api/trace finds an instance in a team account and reads it through fullstop’s role', async () => {
    const served = async (id: string) => {
      const answer = await fetch(`${platform.urls.fullstop}/api/trace?subject=${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(answer.status).toBe(200);
      return (await answer.json()) as Trace;
    };
    // 111111111111 is the ops team's account: not the platform's own, so only its role reads it.
    const id = await instanceInAccount('111111111111');
    const t = await served(id);
    expect(t.links[0]).toMatchObject({
      kind: 'instance',
      status: 'ok',
      facts: { account: '111111111111', team: 'ops' },
    });
    expect(t.links.find((l) => l.kind === 'taupage-config')).toMatchObject({
      status: 'ok',
      facts: { application_id: 'hello-world' },
    });
    // The same as the CLI reads it with --account and fullstop's role.
    const cli = await trace([id, '--account', '111111111111', '--role', 'fullstop', '-o', 'json']);
    expect(t).toEqual(JSON.parse(cli.out));
    // An account no team has is none of the platform's: the server does not go looking there.
    const stranger = await instanceInAccount('222222222222');
    // Read with --account, it is there, but no team owns it.
    const foreign = JSON.parse(
      (await trace([stranger, '--account', '222222222222', '--role', 'fullstop', '-o', 'json'])).out,
    ) as Trace;
    expect(foreign.links[0]).toMatchObject({ status: 'ok', facts: { account: '222222222222', team: null } });
    expect((await served(stranger)).links[0]).toMatchObject({
      kind: 'instance',
      status: 'broken',
      why: 'instance unknown to EC2',
    });
  });

  it('takes the ticket from the verified provenance when the repository cannot be read', async () => {
    const gone = join(dir, 'no-such-repository');
    await push(
      '1.0',
      {
        'scm-source.json': JSON.stringify({
          url: gone,
          revision: commits.ticket,
          author: 'jdoe',
          status: '',
        }),
        'app/run.sh': 'echo ci',
      },
      'hello-ci',
    );
    await attest('1.0', 'hello-ci', ['--ticket', 'SHOP-99']);
    const { trace: t } = await traceJson(`${host}/demo/hello-ci:1.0`);
    expect(t.links.find((l) => l.kind === 'provenance')).toMatchObject({ status: 'ok' });
    expect(t.links.find((l) => l.kind === 'ticket')).toMatchObject({
      status: 'ok',
      label: 'SHOP-99',
      facts: { source: 'provenance' },
    });
    // Without --verify the provenance is not trusted, so neither is the ticket it records.
    const unverified = JSON.parse((await trace([`${host}/demo/hello-ci:1.0`, '-o', 'json'])).out) as Trace;
    expect(unverified.links.find((l) => l.kind === 'ticket')).toMatchObject({
      status: 'unknown',
      why: `repository ${gone} not reachable and the provenance records no ticket`,
    });
  });

  it('starts from an image, a digest or an application too', async () => {
    const fromImage = await traceJson(source('1.0'));
    expect(fromImage.broken).toEqual([]);
    expect(fromImage.trace.links.map((l) => l.kind)).toEqual([
      'image',
      'scm-source',
      'provenance',
      'ticket',
      'kio-app',
      'deployments',
      'violations',
    ]);
    const imageId = fromImage.trace.links[0]!.facts.image_id as string;
    const fromDigest = await traceJson(imageId);
    expect(fromDigest.trace.links[0]!.label).toBe('demo/hello-world:1.0');
    const fromApp = await traceJson('hello-world');
    expect(fromApp.trace.links[0]!.kind).toBe('kio-app');
    expect(fromApp.trace.links[0]!.children!.map((c) => c.label)).toEqual(
      ['1.0', '2.0', '3.0', '4.0', '5.0', '6.0'].map((t) => `demo/hello-world:${t}`),
    );
    // Dirty, no scm-source, forged and ticketless images are all named below the app.
    expect(fromApp.code).toBe(1);
  });

  it('from a Senza stack (StackName/StackVersion tags): one chain per instance', async () => {
    const tags = { StackName: 'hello-world', StackVersion: '7' };
    const a = await instance(
      { application_id: 'hello-world', application_version: '1.0', source: source('1.0') },
      tags,
    );
    const b = await instance(
      { application_id: 'hello-world', application_version: '2.0', source: source('2.0') },
      tags,
    );
    const { code, trace: t, broken } = await traceJson('hello-world 7');
    expect(t.links.map((l) => l.label).sort()).toEqual([a, b].sort());
    expect(broken).toEqual(['scm-source']);
    expect(code).toBe(1);
    const none = await traceJson('hello-world 8');
    expect(none.broken).toEqual(['instance']);
    expect(none.trace.links[0]!.why).toMatch(/no instances of stack hello-world 8/);
  });

  it('without --verify, provenance is unknown, not ok', async () => {
    const run = await trace([source('1.0'), '-o', 'json']);
    const t = JSON.parse(run.out) as Trace;
    expect(t.links.find((l) => l.kind === 'provenance')).toMatchObject({
      status: 'unknown',
      why: expect.stringMatching(/--verify/),
    });
    expect(run.code).toBe(0);
  });

  it('the platform runs the same walk for the console: GET /api/trace on fullstop, with the caller’s token', async () => {
    const cli = await traceJson(whole);
    const url = (q: string) => `${platform.urls.fullstop}/api/trace?${q}`;
    const served = await fetch(url(`subject=${whole}&verify=true`), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(served.status).toBe(200);
    expect(await served.json()).toEqual(cli.trace);
    const image = await fetch(url(`subject=${encodeURIComponent(source('2.0'))}&verify=true`), {
      headers: { authorization: `Bearer ${token}` },
    });
    const dirty = (await image.json()) as Trace;
    expect(dirty.whole).toBe(false);
    expect(dirty.links.find((l) => l.kind === 'scm-source')).toMatchObject({
      status: 'broken',
      why: expect.stringMatching(/^dirty build/),
    });
    const bad = await fetch(url('subject=NOT%20A%20THING'), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await bad.json()).toMatchObject({
      code: 'TRACE_SUBJECT_INVALID',
      detail: '"NOT A THING" is no instance id, stack, image reference, image digest or application id',
    });
    expect((await fetch(url(`subject=${whole}`))).status).toBe(401);
  });

  it('usage and network errors are exit 2 with one line', async () => {
    const bad = await trace(['NOT A THING']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^stups: "NOT A THING" is no instance id/);
    // A loopback port nothing listens on.
    const closed = `http://127.0.0.1:${(await freePorts(1))[0]}`;
    const io = await captureIo({
      env: {
        PIERONE_URL: closed,
        KIO_URL: closed,
        STUPS_FULLSTOP_URL: closed,
        OAUTH2_ACCESS_TOKENS: `default=${token}`,
      },
    });
    const code = await runCli(stupsProgram(io), ['trace', source('1.0')], io);
    await io.cleanup();
    expect(code).toBe(2);
    expect(io.err()).toMatch(new RegExp(`^stups: cannot reach Pier One at ${closed}: ECONNREFUSED\n$`));
  });
});
