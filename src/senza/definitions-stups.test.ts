import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { senzaProgram } from './cli/main.js';
import { mockAws, stupsAccount } from './test-support/aws-mocks.js';
import { checkTemplate } from './test-support/cfn-spec.js';
import { cfnLintErrors } from './test-support/cfn-lint.js';

const aws = mockAws();
afterAll(() => aws.restore());
beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
});

const TESTDATA = join(import.meta.dirname, 'testdata');

async function senza(args: string[], cwd = TESTDATA) {
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1' } });
  io.cwd = cwd;
  const code = await runCli(senzaProgram({ io }), args, io);
  await io.cleanup();
  if (args[0] === 'print' && code === 0)
    produced.set(`${produced.size}-${args.join(' ')}`, JSON.parse(io.out()));
  return { code, out: io.out(), err: io.err() };
}

/** Every template printed here; cfn-lint checks them in one run at the end. */
const produced = new Map<string, unknown>();
afterAll(async () => {
  expect(await cfnLintErrors(produced)).toEqual([]);
}, 120_000);

/** Writes a definition into a fresh directory and runs `senza print` on it. */
async function printDefinition(yaml: string, ...args: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'senza-def-'));
  try {
    await writeFile(join(dir, 'def.yaml'), yaml);
    return await senza(['print', 'def.yaml', '1', ...args], dir);
  } finally {
    await rm(dir, { recursive: true });
  }
}

const userDataOf = (out: string) => {
  const t = JSON.parse(out);
  return parse(t.Resources.WebServerConfig.Properties.UserData['Fn::Base64'] as string, { version: '1.1' });
};

const definition = (taupage: string, extra = '') => `SenzaInfo:
  StackName: myapp
SenzaComponents:
  - Configuration:
      Type: Senza::Configuration
      ServerSubnets: { eu-west-1: [subnet-1] }
      Images: { LatestTaupageImage: { eu-west-1: ami-fixed } }
  - WebServer:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: t2.micro
${extra}      TaupageConfig:
        runtime: Docker
        source: stups/hello:1
${taupage}`;

describe('definitions STUPS accepted', () => {
  it("prints the Taupage reference's own example: duplicate keys warn with their line, the last wins", async () => {
    const r = await senza(['print', '--force', 'taupage-seed-example.yaml', '1']);
    expect(r.code).toBe(0);
    // Component warnings follow the progress dots of "Generating Cloud Formation template..".
    const warnings = r.err
      .split('\n')
      .filter((l) => l.includes('duplicate key') || l.includes('unchanged'))
      .map((l) => l.replace(/^Generating Cloud Formation template\.\./, ''));
    expect(warnings).toEqual([
      `${join(TESTDATA, 'taupage-seed-example.yaml')}:108: duplicate key "logentries_account_key" (first on line 106); the last one is used`,
      `${join(TESTDATA, 'taupage-seed-example.yaml')}:112: duplicate key "scalyr_account_key" (first on line 110); the last one is used`,
      'SenzaComponents[1].WebServer.TaupageConfig.some_future_option: unknown option: passed to Taupage unchanged',
    ]);
    const template = JSON.parse(r.out);
    expect(checkTemplate(template)).toEqual([]);
    const lc = template.Resources.WebServerConfig.Properties;
    // `no` / `yes` are YAML 1.1 booleans where booleans are expected.
    expect(lc.AssociatePublicIpAddress).toBe(false);
    expect(lc.EbsOptimized).toBe(true);
    const config = userDataOf(r.out);
    expect(config).toMatchObject({
      logentries_account_key: 'aws:kms:v5V2bMGRgg2yTHXm5Fn...',
      scalyr_account_key: 'aws:kms:v5V2bMGRgg2yTHXm5Fn...',
      // `no` is false in YAML 1.1; Taupage copies the value into sshd_config, which wants the word.
      ssh_gateway_ports: 'no',
      sysctl: { 'net.core.somaxconn': 1024, 'vm.swappiness': 0 },
      some_future_option: true,
      ports: { 80: 80, 8600: '8600/upd' },
      rsyslog_max_message_size: '4K',
    });
  });

  it('accepts yes/no/on/off as booleans in Taupage options and component properties', async () => {
    const r = await printDefinition(
      definition('        read_only: yes\n        root: off\n', '      InstanceMonitoring: on\n'),
    );
    expect(r.err).toBe('Generating Cloud Formation template.. OK\n');
    expect(r.code).toBe(0);
    expect(userDataOf(r.out)).toMatchObject({ read_only: true, root: false });
    expect(JSON.parse(r.out).Resources.WebServerConfig.Properties.InstanceMonitoring).toBe(true);
  });
});

describe('validation says what is wrong, all at once', () => {
  it('reports application_id and version problems together with every other schema problem', async () => {
    const r = await printDefinition(
      definition(
        '        application_id: My_App\n        application_version: "-1"\n        root: sometimes\n        health_check_path: health\n',
      ),
    );
    expect(r.code).toBe(1);
    const lines = r.err
      .split('\n')
      .filter((l) => l.includes('SenzaComponents'))
      .map((l) => l.replace(/^senza: /, ''));
    expect(lines.sort()).toEqual(
      [
        'SenzaComponents[1].WebServer.TaupageConfig.application_id: must match ^[a-z][a-z0-9-]*[a-z0-9]$',
        'SenzaComponents[1].WebServer.TaupageConfig.application_version: must match ^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$',
        'SenzaComponents[1].WebServer.TaupageConfig.root: expected true or false',
        'SenzaComponents[1].WebServer.TaupageConfig.health_check_path: expected a path starting with /',
      ].sort(),
    );
  });

  it('reports the problems of every component in one run, not only of the first wrong one', async () => {
    const r = await printDefinition(
      definition('', '      NoSuchProperty: 1\n').concat(`  - Mystery:
      Type: Senza::Nonexistent
  - Balancer:
      Type: Senza::WeightedDnsElasticLoadBalancer
      HTTPPort: lots
`),
    );
    expect(r.code).toBe(1);
    const lines = r.err
      .split('\n')
      .filter((l) => l.includes('SenzaComponents'))
      .map((l) => l.replace(/^.*?senza: /, ''));
    expect(lines).toEqual([
      'SenzaComponents[1].WebServer.NoSuchProperty: unknown property of Senza::TaupageAutoScalingGroup',
      expect.stringMatching(
        /^SenzaComponents\[2\]\.Mystery\.Type: Component "Senza::Nonexistent" does not exist/,
      ),
      'SenzaComponents[3].Balancer.HTTPPort: expected a whole number',
      'SenzaComponents[3].Balancer.SecurityGroups: required',
    ]);
  });

  it('says to quote an unquoted {{…}}, which YAML reads as a map, naming the line', async () => {
    const r = await printDefinition(
      `SenzaInfo:
  StackName: myapp
  Parameters:
    - ImageVersion: {}
SenzaComponents:
  - WebServer:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: {{Arguments.InstanceType}}
      TaupageConfig:
        source: stups/hello:{{Arguments.ImageVersion}}
        application_version: {{Arguments.ImageVersion}}
`,
      '2.0',
    );
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines.filter((l) => l.includes('quote the value'))).toEqual([
      expect.stringMatching(
        /def\.yaml:8: \{\{Arguments\.InstanceType\}\} is read by YAML as a map; quote the value: "\{\{Arguments\.InstanceType\}\}"$/,
      ),
      expect.stringMatching(
        /def\.yaml:11: \{\{Arguments\.ImageVersion\}\} is read by YAML as a map; quote the value: "\{\{Arguments\.ImageVersion\}\}"$/,
      ),
    ]);
    expect(r.err).not.toContain('Invalid input');
  });
});

describe('command line checks come before AWS', () => {
  it.each([
    ['list', '-o', 'xml'],
    ['status', '-o', 'yaml', 'myapp'],
    ['print', '-o', 'text', 'minimal-sqs.yaml', '1'],
  ])('rejects an invalid -o (%s) with a usage error and no AWS call', async (...args) => {
    const r = await senza(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^senza: --output must be (one of text, json, tsv|json or yaml for print) \(got "\w+"\)\n$/,
    );
    expect(aws.iam.calls()).toHaveLength(0);
    expect(aws.cf.calls()).toHaveLength(0);
  });
});
