import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStackCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { pieroneMigrations } from '../pierone/migrations.js';
import { putManifest, rawImage } from '../pierone/test-support/http.js';
import { startTestRegistry, type TestRegistry } from '../pierone/test-support/registry-harness.js';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { senzaProgram } from './cli/main.js';
import { parseDockerImage } from './image-check.js';
import { mockAws, stupsAccount } from './test-support/aws-mocks.js';
import { cfnLintErrors } from './test-support/cfn-lint.js';

const aws = mockAws();
afterAll(() => aws.restore());

/** Every template printed here; cfn-lint checks them in one run at the end. */
const produced = new Map<string, unknown>();
afterAll(async () => {
  expect(await cfnLintErrors(produced)).toEqual([]);
}, 120_000);
beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
});

const definition = (source: string) => `SenzaInfo:
  StackName: hello
SenzaComponents:
  - Configuration:
      Type: Senza::Configuration
      ServerSubnets: { eu-west-1: [subnet-1] }
      Images: { LatestTaupageImage: { eu-west-1: ami-fixed } }
  - App:
      Type: Senza::TaupageAutoScalingGroup
      InstanceType: t2.micro
      TaupageConfig:
        runtime: Docker
        source: "${source}"
`;

async function senza(source: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'senza-image-'));
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1', ...env } });
  io.cwd = dir;
  try {
    await writeFile(join(dir, 'hello.yaml'), definition(source));
    const code = await runCli(senzaProgram({ io, sleep: async () => {} }), args, io);
    if (args[0] === 'print' && code === 0) produced.set(`${produced.size}-${source}`, JSON.parse(io.out()));
    return { code, out: io.out(), err: io.err() };
  } finally {
    await io.cleanup();
    await rm(dir, { recursive: true });
  }
}

/** The last line of stderr: the one line a failed command prints. */
const lastLine = (err: string) => err.trimEnd().split('\n').at(-1);

it('splits image references as the original Senza did', () => {
  expect(parseDockerImage('pierone.example.org/team/app:1.0')).toEqual({
    registry: 'pierone.example.org',
    name: 'team/app',
    tag: '1.0',
  });
  expect(parseDockerImage('127.0.0.1:8080/team/app')).toEqual({
    registry: '127.0.0.1:8080',
    name: 'team/app',
    tag: 'latest',
  });
  // Docker Hub short names have no registry and are not checked (as in STUPS).
  expect(parseDockerImage('stups/hello:1')?.registry).toBeUndefined();
});

describeEachDatabase(
  'senza checks the Taupage source image in Pier One',
  [...KERNEL_MIGRATIONS, pieroneMigrations],
  (getDatabase) => {
    let reg: TestRegistry;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      reg = await startTestRegistry(getDatabase());
      const image = await rawImage(reg, reg.tokens.alice, 'stups/hello');
      expect((await putManifest(reg, reg.tokens.alice, 'stups/hello', '1.0', image.manifest)).status).toBe(
        201,
      );
      // Pier One's URL as `stups configure` leaves it, and zign's `pierone` token.
      env = { PIERONE_URL: reg.url, OAUTH2_ACCESS_TOKENS: `pierone=${reg.tokens.alice}` };
    });
    afterAll(async () => {
      await reg?.close();
    });

    it('print, create and update go ahead for a pushed tag', async () => {
      aws.cf.on(CreateStackCommand).resolves({ StackId: 'id' });
      aws.cf.on(UpdateStackCommand).resolves({ StackId: 'id' });
      const source = `${reg.host}/stups/hello:1.0`;
      const print = await senza(source, ['print', 'hello.yaml', '1'], env);
      expect(print.err).toBe('Generating Cloud Formation template.. OK\n');
      expect(print.code).toBe(0);
      expect((await senza(source, ['create', 'hello.yaml', '1'], env)).code).toBe(0);
      expect((await senza(source, ['update', 'hello.yaml', '1'], env)).code).toBe(0);
      expect(aws.cf.commandCalls(CreateStackCommand)).toHaveLength(1);
      expect(aws.cf.commandCalls(UpdateStackCommand)).toHaveLength(1);
    });

    it('refuses a missing tag or repository with one line, before any stack call; --force skips the check', async () => {
      for (const source of [`${reg.host}/stups/hello:2.0`, `${reg.host}/stups/nothing:1.0`]) {
        for (const command of ['print', 'create', 'update']) {
          const r = await senza(source, [command, 'hello.yaml', '1'], env);
          expect(r.code).toBe(1);
          expect(lastLine(r.err)).toBe(`senza: Docker image "${source}" does not exist`);
        }
      }
      expect(aws.cf.commandCalls(CreateStackCommand)).toHaveLength(0);
      expect(aws.cf.commandCalls(UpdateStackCommand)).toHaveLength(0);

      aws.cf.on(CreateStackCommand).resolves({ StackId: 'id' });
      const forced = await senza(
        `${reg.host}/stups/hello:2.0`,
        ['create', '--force', 'hello.yaml', '1'],
        env,
      );
      expect(forced.code).toBe(0);
      expect(aws.cf.commandCalls(CreateStackCommand)).toHaveLength(1);
    });

    it("uses zign's default token when there is no pierone token (after a plain zign login)", async () => {
      const r = await senza(`${reg.host}/stups/hello:1.0`, ['print', 'hello.yaml', '1'], {
        PIERONE_URL: reg.url,
        OAUTH2_ACCESS_TOKENS: `default=${reg.tokens.alice}`,
      });
      expect(r.err).toBe('Generating Cloud Formation template.. OK\n');
      expect(r.code).toBe(0);
      const refused = await senza(`${reg.host}/stups/hello:1.0`, ['print', 'hello.yaml', '1'], {
        PIERONE_URL: reg.url,
        OAUTH2_ACCESS_TOKENS: 'default=not-a-token',
      });
      expect(refused.code).toBe(1);
    });

    it('says how to get a token when there is none', async () => {
      const r = await senza(`${reg.host}/stups/hello:1.0`, ['print', 'hello.yaml', '1'], {
        PIERONE_URL: reg.url,
      });
      expect(r.code).toBe(1);
      expect(lastLine(r.err)).toMatch(
        /^senza: Unauthorized: cannot check whether Docker image "[^"]+" exists in Pier One: .+; log in \("zign token -n pierone"\) or use --force to skip this check$/,
      );
    });

    it('answers a token Pier One refuses with one line', async () => {
      const r = await senza(`${reg.host}/stups/hello:1.0`, ['print', 'hello.yaml', '1'], {
        PIERONE_URL: reg.url,
        OAUTH2_ACCESS_TOKENS: 'pierone=not-a-token',
      });
      expect(r.code).toBe(1);
      expect(lastLine(r.err)).toBe(
        `senza: Cannot check whether Docker image "${reg.host}/stups/hello:1.0" exists: Pier One answered HTTP 401; use --force to skip this check`,
      );
    });
  },
);

/** A registry that hands out anonymous pull tokens through a Bearer challenge, like Docker Hub. */
async function bearerRegistry(tags: string[]): Promise<{ host: string; server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    const host = req.headers.host!;
    if (req.url?.startsWith('/token?')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'anon-pull' }));
    } else if (req.url === '/v2/team/app/tags/list') {
      if (req.headers.authorization !== 'Bearer anon-pull') {
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${host}/token",service="${host}",scope="repository:team/app:pull"`,
          })
          .end();
      } else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ name: 'team/app', tags }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

it('checks other registries through /v2/<name>/tags/list with the anonymous Bearer token', async () => {
  const registry = await bearerRegistry(['1.0']);
  try {
    const ok = await senza(`${registry.host}/team/app:1.0`, ['print', 'hello.yaml', '1']);
    expect(ok.code).toBe(0);
    const missing = await senza(`${registry.host}/team/app:9.9`, ['print', 'hello.yaml', '1']);
    expect(lastLine(missing.err)).toBe(`senza: Docker image "${registry.host}/team/app:9.9" does not exist`);
    expect(registry.calls.filter((c) => c.startsWith('GET /token?'))).toHaveLength(2);
    expect(registry.calls.filter((c) => c.endsWith('Bearer anon-pull'))).toHaveLength(2);
  } finally {
    registry.server.close();
  }
});

it('says that a registry is unreachable and suggests --force', async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
  const r = await senza(`${host}/team/app:1.0`, ['print', 'hello.yaml', '1']);
  expect(r.code).toBe(1);
  expect(lastLine(r.err)).toBe(
    `senza: Cannot check whether Docker image "${host}/team/app:1.0" exists: registry ${host} is unreachable (ECONNREFUSED); use --force to skip this check`,
  );
  expect((await senza(`${host}/team/app:1.0`, ['print', '--force', 'hello.yaml', '1'])).code).toBe(0);
});
