/**
 * `senza print` in a child process, wall time and peak memory (VmHWM), of three definitions: the
 * seed's hello-world (what `senza init -t webapp` writes with its defaults, printed against
 * moto_server, the AWS emulator, seeded as a STUPS account), a large one (50 components) and a
 * minimal one, against references measured in the same run: `node -e ''` (the floor for any
 * Node CLI) and `python3 -c ''` (the floor the original Python senza started from). Senza runs as users run it: bin/senza.js and the bundle that
 * scripts/build.mjs makes (the bundling decides much of its start-up, issue 23). For the large and
 * minimal definitions AWS is a loopback fake reached through AWS_ENDPOINT_URL (it answers the IAM
 * and EC2 calls they need, and costs the emulator's own time nothing).
 *
 *   npx tsx bench/senza.ts          (runs `node scripts/build.mjs --only server` first)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { motoEnv, seedStupsAccount, startMoto } from '../src/senza/test-support/moto.js';
import { median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Historical references from PERFORMANCE.md (not measured here: the Python senza cannot be installed). */
const PYTHON_SENZA = { seconds: 0.7, mib: 71 };
const PYTHON_SENZA_HELLO_WORLD = { seconds: 1.18, mib: 94 };
/** Issue 23's goal for the hello-world row, as ratios of the Python senza's figures. */
const HELLO_WORLD_GOAL = { time: 0.35, memory: 1.0 };

const EC2 = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const tags = (name: string) => `<tagSet><item><key>Name</key><value>${name}</value></item></tagSet>`;
const ANSWERS: Record<string, string> = {
  ListAccountAliases:
    '<ListAccountAliasesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListAccountAliasesResult>' +
    '<IsTruncated>false</IsTruncated><AccountAliases><member>myorg-myteam</member></AccountAliases>' +
    '</ListAccountAliasesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListAccountAliasesResponse>',
  DescribeImages:
    `<DescribeImagesResponse xmlns="${EC2}"><requestId>r</requestId><imagesSet>` +
    '<item><imageId>ami-0taupage1</imageId><name>Taupage-AMI-20250301-120000</name></item>' +
    '<item><imageId>ami-0taupage0</imageId><name>Taupage-AMI-20240101-120000</name></item>' +
    '</imagesSet></DescribeImagesResponse>',
  DescribeVpcs: `<DescribeVpcsResponse xmlns="${EC2}"><requestId>r</requestId><vpcSet><item><vpcId>vpc-1</vpcId><isDefault>true</isDefault></item></vpcSet></DescribeVpcsResponse>`,
  DescribeSubnets:
    `<DescribeSubnetsResponse xmlns="${EC2}"><requestId>r</requestId><subnetSet>` +
    ['dmz-a', 'dmz-b', 'internal-a', 'internal-b']
      .map(
        (n) =>
          `<item><subnetId>subnet-${n}</subnetId><availabilityZone>eu-west-1a</availabilityZone>${tags(n)}</item>`,
      )
      .join('') +
    '</subnetSet></DescribeSubnetsResponse>',
};

function fakeAws(): Promise<{ url: string; close: () => Promise<void>; calls: Map<string, number> }> {
  const calls = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const action = new URLSearchParams(body).get('Action') ?? '';
      calls.set(action, (calls.get(action) ?? 0) + 1);
      const answer = ANSWERS[action];
      res.writeHead(answer ? 200 : 400, { 'content-type': 'text/xml' });
      res.end(
        answer ??
          `<ErrorResponse><Error><Code>Unsupported</Code><Message>${action}</Message></Error></ErrorResponse>`,
      );
    });
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      ok({
        url: `http://127.0.0.1:${port}`,
        calls,
        close: () => new Promise((c) => server.close(() => c())),
      });
    }),
  );
}

/** 50 components: auto configuration, then groups and load balancers with all their features. */
function largeDefinition(): string {
  const lines = [
    'SenzaInfo:',
    '  StackName: bench',
    '  Parameters:',
    '    - ImageVersion: {Description: "Docker image version"}',
    'SenzaComponents:',
    '  - Configuration: {Type: Senza::StupsAutoConfiguration}',
  ];
  for (let i = 0; i < 49; i++) {
    if (i % 2 === 0) {
      lines.push(
        `  - App${i}:`,
        '      Type: Senza::TaupageAutoScalingGroup',
        '      InstanceType: t3.small',
        '      SecurityGroups: [sg-0123456789]',
        '      IamInstanceProfile: arn:aws:iam::123456789012:instance-profile/app',
        ...(i + 1 < 49 ? [`      ElasticLoadBalancer: Lb${i + 1}`] : []),
        '      AutoScaling: {Minimum: 2, Maximum: 8, MetricType: CPU, ScaleUpThreshold: 70, ScaleDownThreshold: 30, SuccessRequires: "2 within 10m"}',
        '      TaupageConfig:',
        '        runtime: Docker',
        `        source: "pierone.example.org/team/app${i}:{{Arguments.ImageVersion}}"`,
        '        ports: {8080: 8080}',
        '        environment:',
        ...Array.from(
          { length: 20 },
          (_, k) => `          VAR_${k}: "value-${k}-{{SenzaInfo.StackVersion}}"`,
        ),
        '          SECRET: "aws:kms:AQICAHhzZWNyZXQ="',
      );
    } else {
      lines.push(
        `  - Lb${i}:`,
        '      Type: Senza::ElasticLoadBalancer',
        '      HTTPPort: 8080',
        '      SecurityGroups: [sg-0123456789]',
        '      SSLCertificateId: arn:aws:iam::123456789012:server-certificate/example-org',
        '      Domains:',
        `        VersionDomain: {Type: standalone, Zone: example.org, Subdomain: "app${i}-{{SenzaInfo.StackVersion}}"}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const MINIMAL = 'SenzaInfo:\n  StackName: example\nResources:\n  MyQueue:\n    Type: AWS::SQS::Queue\n';

interface Sample {
  ms: number;
  peakMiB: number;
}

/** Runs a command (node unless `program` says otherwise) to completion, sampling VmHWM of the child until it exits. */
async function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  program = process.execPath,
): Promise<Sample & { out: string }> {
  const started = performance.now();
  const child = spawn(program, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  let peakKiB = 0;
  const sample = async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // The process has exited between samples.
    }
  };
  const sampler = setInterval(() => void sample(), 2);
  const code = await new Promise<number | null>((ok) => child.on('exit', ok));
  const ms = performance.now() - started;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}: ${err}`);
  return { ms, peakMiB: peakKiB / 1024, out };
}

async function main() {
  console.log('building (scripts/build.mjs --only server) ...');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--only', 'server'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const entry = join(ROOT, 'bin', 'senza.js');

  const work = await mkdtemp(join(tmpdir(), 'senza-bench-'));
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'large.yaml'), largeDefinition());
  await writeFile(join(work, 'minimal.yaml'), MINIMAL);
  const aws = await fakeAws();
  const moto = await startMoto();
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    NODE_NO_WARNINGS: '1',
  };
  try {
    await seedStupsAccount(moto.endpoint);
    const helloEnv = { PATH: process.env.PATH, HOME: work, NODE_NO_WARNINGS: '1', ...motoEnv(moto.endpoint) };
    await run(
      [entry, 'init', 'hello-world.yaml', '-t', 'webapp', '-v', 'application_id=hello-world'],
      helloEnv,
      work,
    );
    const helloArgs = [entry, 'print', 'hello-world.yaml', '1', '0.1'];
    const hello = JSON.parse((await run(helloArgs, helloEnv, work)).out) as {
      Resources: Record<string, unknown>;
    };
    console.log(
      `hello-world definition (senza init -t webapp, defaults): ${Object.keys(hello.Resources).length} resources, against moto_server`,
    );
    const check = await run([entry, 'print', '--force', 'large.yaml', '1', '1.0'], env, work);
    const template = JSON.parse(check.out) as { Resources: Record<string, unknown> };
    console.log(
      `large definition: 50 components → ${Object.keys(template.Resources).length} resources, ${(check.out.length / 1024).toFixed(0)} KiB JSON; AWS calls: ${[...aws.calls].map(([a, n]) => `${a}×${n}`).join(', ')}`,
    );
    const samples: Record<'node' | 'python' | 'minimal' | 'large' | 'hello', Sample[]> = {
      node: [],
      python: [],
      minimal: [],
      large: [],
      hello: [],
    };
    // Interleaved rounds, so drift on a shared machine hits every case alike.
    for (let i = 0; i < RUNS; i++) {
      samples.node.push(await run(['-e', ''], env, work));
      samples.python.push(await run(['-c', ''], env, work, 'python3'));
      samples.minimal.push(await run([entry, 'print', 'minimal.yaml', '1'], env, work));
      samples.large.push(await run([entry, 'print', '--force', 'large.yaml', '1', '1.0'], env, work));
      samples.hello.push(await run(helloArgs, helloEnv, work));
    }
    const m = (k: keyof typeof samples) => ({
      ms: median(samples[k].map((s) => s.ms)),
      mib: median(samples[k].map((s) => s.peakMiB)),
    });
    const node = m('node');
    const python = m('python');
    const minimal = m('minimal');
    const large = m('large');
    const helloWorld = m('hello');
    const row = (name: string, s: { ms: number; mib: number }) =>
      `${name.padEnd(34)} ${(s.ms / 1000).toFixed(3).padStart(7)} s ${s.mib.toFixed(1).padStart(7)} MiB   ×${(s.ms / node.ms).toFixed(2)} / ×${(s.mib / node.mib).toFixed(2)} of node -e ''`;
    console.log(`\nmedian of ${RUNS} runs (wall time, peak RSS VmHWM)`);
    console.log(row("node -e ''", node));
    console.log(row("python3 -c ''", python));
    console.log(row('senza print minimal definition', minimal));
    console.log(row('senza print 50 components', large));
    console.log(row('senza print hello-world (moto)', helloWorld));
    console.log(
      `large vs minimal: ×${(large.ms / minimal.ms).toFixed(2)} time, ×${(large.mib / minimal.mib).toFixed(2)} memory`,
    );
    console.log(
      `historical (PERFORMANCE.md, not measured here): Python senza print minimal ${PYTHON_SENZA.seconds.toFixed(2)} s / ${PYTHON_SENZA.mib} MiB` +
        ` → this minimal: ×${(minimal.ms / 1000 / PYTHON_SENZA.seconds).toFixed(2)} time, ×${(minimal.mib / PYTHON_SENZA.mib).toFixed(2)} memory;` +
        ` 50 components: ×${(large.ms / 1000 / PYTHON_SENZA.seconds).toFixed(2)} time, ×${(large.mib / PYTHON_SENZA.mib).toFixed(2)} memory`,
    );
    const helloTime = helloWorld.ms / 1000 / PYTHON_SENZA_HELLO_WORLD.seconds;
    const helloMemory = helloWorld.mib / PYTHON_SENZA_HELLO_WORLD.mib;
    console.log(
      `historical (PERFORMANCE.md): Python senza print hello-world against an emulator ${PYTHON_SENZA_HELLO_WORLD.seconds.toFixed(2)} s / ${PYTHON_SENZA_HELLO_WORLD.mib} MiB` +
        ` → this hello-world: ×${helloTime.toFixed(2)} time, ×${helloMemory.toFixed(2)} memory` +
        ` (goal ≤ ×${HELLO_WORLD_GOAL.time} time, ≤ ×${HELLO_WORLD_GOAL.memory} memory: ${helloTime <= HELLO_WORLD_GOAL.time && helloMemory <= HELLO_WORLD_GOAL.memory ? 'met' : 'not met'})`,
    );
  } finally {
    await moto.stop();
    await aws.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
