import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { silentLogger } from '../../src/platform/logger.js';
import { isPostgresAvailable, TEST_POSTGRES_URL } from '../../src/platform/test-support/databases.js';
import { stupsProgram } from '../../src/stups/cli/main.js';
import { freePorts } from '../../src/stups/free-ports.js';
import { MODULES } from '../../src/stups/modules.js';
import { startPlatform } from '../../src/stups/runtime.js';
import { loadSettings } from '../../src/stups/settings.js';

/*
 * The chart's sources checked without rendering them: the template syntax nests, every value a
 * template reads exists in values.yaml, every included template is defined, the chart's services
 * are the platform's, and the environment the Deployments set is accepted by the platform's own
 * settings loader. helm-render.test.ts renders the chart with a real helm and validates the
 * output against the Kubernetes schemas.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'deploy', 'helm', 'stups');
const TEMPLATES = join(CHART, 'templates');

const templateFiles = readdirSync(TEMPLATES).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
const templates = new Map(templateFiles.map((f) => [f, readFileSync(join(TEMPLATES, f), 'utf8')]));
const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** The Go-template actions of a text, `{{ … }}` without the delimiters and trim markers. */
function actions(text: string): string[] {
  return [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)].map((m) => m[1] ?? '');
}

function hasPath(tree: unknown, path: string[]): boolean {
  let node = tree;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/**
 * The environment deployment.yaml gives a container: its literal `name: X / value: "Y"` pairs,
 * and the templated STUPS_URL_<SERVICE> ones filled in as the template computes them. Files the
 * pod mounts (ConfigMap, Secrets) are left out: the settings loader would read them.
 */
function deploymentEnv(): Record<string, string> {
  const deployment = templates.get('deployment.yaml') ?? '';
  const literal: Record<string, string> = Object.fromEntries(
    [...deployment.matchAll(/- name: ([A-Z_]+)\n\s+value: "?([^"{\n]+)"?\n/g)].map((m) => [m[1]!, m[2]!]),
  );
  expect(Object.keys(literal)).toEqual(
    expect.arrayContaining(['STUPS_HOST', 'STUPS_PLATFORM__SELF_SIGNED', 'STUPS_DATA_DIR', 'STUPS_CONFIG']),
  );
  for (const mounted of ['STUPS_CONFIG', 'STUPS_ORG_FILE', 'STUPS_EVEN_SSH_KEY_FILE']) {
    expect(literal[mounted], mounted).toMatch(/^\/etc\/stups\//);
    delete literal[mounted];
  }
  // The template's `upper | replace "-" "_"` of each service name.
  expect(deployment).toContain('($other | upper | replace "-" "_")');
  for (const m of MODULES) {
    literal[`STUPS_URL_${m.name.toUpperCase().replace(/-/g, '_')}`] = `https://${m.name}.example.org`;
  }
  literal.STUPS_LOG_LEVEL = 'silent';
  return literal;
}

describe('Helm chart deploy/helm/stups', () => {
  it('is a v2 application chart with a semantic version', () => {
    const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('stups');
    expect(chart.type).toBe('application');
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(chart.appVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs exactly the services `stups serve` knows', () => {
    const services = Object.keys(values.services as Record<string, unknown>).sort();
    expect(services).toEqual(MODULES.map((m) => m.name).sort());
  });

  it('lets a service override only what defaults has (plus enabled and host)', () => {
    const defaults = values.defaults as Record<string, unknown>;
    for (const [name, override] of Object.entries(values.services as Record<string, object | null>)) {
      for (const key of Object.keys(override ?? {})) {
        expect(key in defaults || key === 'enabled' || key === 'host', `services.${name}.${key}`).toBe(true);
      }
    }
  });

  it('nests its template actions: every if/range/with/define has its end, else only inside if/with', () => {
    for (const [file, text] of templates) {
      expect(text.split('{{').length, `${file}: {{ and }} pair up`).toBe(text.split('}}').length);
      const open: string[] = [];
      for (const action of actions(text)) {
        const word = /^(\/\*|[a-z]+)/.exec(action)?.[1] ?? '';
        if (['if', 'range', 'with', 'define'].includes(word)) open.push(word);
        else if (word === 'else') expect(['if', 'with', 'range'], `${file}: else`).toContain(open.at(-1));
        else if (word === 'end') expect(open.pop(), `${file}: end without a block`).toBeDefined();
      }
      expect(open, `${file}: blocks left open`).toEqual([]);
    }
  });

  it('reads only values that values.yaml declares', () => {
    const read = new Set<string>();
    for (const text of templates.values()) {
      for (const m of text.matchAll(/\.Values((?:\.[A-Za-z][\w]*)+)/g)) read.add(m[1]!.slice(1));
    }
    expect(read.size).toBeGreaterThan(20);
    const missing = [...read].filter((path) => !hasPath(values, path.split('.')));
    expect(missing).toEqual([]);
  });

  it('includes only templates it defines', () => {
    const all = [...templates.values()].join('\n');
    const defined = new Set([...all.matchAll(/\{\{-?\s*define "([^"]+)"/g)].map((m) => m[1]));
    const included = new Set([...all.matchAll(/include "([^"]+)"/g)].map((m) => m[1]));
    expect(included.size).toBeGreaterThan(3);
    for (const name of included) expect(defined, name).toContain(name);
  });

  it('declares each kind with its current apiVersion, per service where the issue asks', () => {
    const expected: Array<[string, string, string]> = [
      ['deployment.yaml', 'apps/v1', 'Deployment'],
      ['service.yaml', 'v1', 'Service'],
      ['pdb.yaml', 'policy/v1', 'PodDisruptionBudget'],
      ['hpa.yaml', 'autoscaling/v2', 'HorizontalPodAutoscaler'],
      ['servicemonitor.yaml', 'monitoring.coreos.com/v1', 'ServiceMonitor'],
      ['ingress.yaml', 'networking.k8s.io/v1', 'Ingress'],
      ['secret.yaml', 'v1', 'Secret'],
    ];
    for (const [file, apiVersion, kind] of expected) {
      const text = templates.get(file) ?? '';
      expect(text, file).toContain(`apiVersion: ${apiVersion}\nkind: ${kind}\n`);
      if (!['ingress.yaml', 'secret.yaml'].includes(file)) {
        expect(text, `${file} is per service`).toMatch(
          /^\{\{- range \$name, \$_ := \.Values\.services \}\}/m,
        );
      }
    }
  });

  it('probes /health and scrapes /metrics, the paths every service answers', () => {
    const deployment = templates.get('deployment.yaml') ?? '';
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(deployment).toMatch(new RegExp(`${probe}:\\n\\s+httpGet:\\n\\s+path: /health\\n`));
    }
    expect(templates.get('servicemonitor.yaml')).toContain('path: /metrics');
    expect(deployment).toContain('args: ["serve", {{ $name | quote }}, "--port"');
  });

  it('sets an environment the platform accepts: listening on all interfaces, plain HTTP, PostgreSQL', async () => {
    const settings = await loadSettings({
      env: {
        ...deploymentEnv(),
        DATABASE_URL: 'postgres://stups@db.example.org/stups',
        STUPS_KEY_ENCRYPTION_SECRET: 'sixteen-or-more-characters',
        STUPS_BLOB_BUCKET: 'stups-blobs',
      },
    });
    expect(settings.platform.host).toBe('0.0.0.0');
    expect(settings.platform.selfSigned).toBe(false);
    expect(settings.platform.dataDir).toBe('/var/lib/stups');
    expect(settings.platform.urls['token-service']).toBe('https://token-service.example.org');
    expect(settings.platform.urls.console).toBe('https://console.example.org');
  });

  it('starts a service with that environment and the container args: plain HTTP /health and /metrics on the port', async (context) => {
    if (!(await isPostgresAvailable())) {
      context.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`);
    }
    const schema = `helm_${randomBytes(5).toString('hex')}`;
    const dataDir = await mkdtemp(join(tmpdir(), 'stups-helm-'));
    const [port] = await freePorts(1);
    const settings = await loadSettings({
      env: {
        ...deploymentEnv(),
        // The pod's emptyDir; /var/lib/stups is not writable here.
        STUPS_DATA_DIR: dataDir,
        DATABASE_URL: `${TEST_POSTGRES_URL}?schema=${schema}`,
        STUPS_KEY_ENCRYPTION_SECRET: randomBytes(24).toString('base64url'),
      },
    });
    // What `stups serve kio --port <port>` (the Deployment's args) hands the runtime.
    const running = await startPlatform(settings, { logger: silentLogger(), only: 'kio', port });
    try {
      expect(running.listening).toEqual(['kio']);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'UP' });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
    }
  }, 120_000);
});

describe('Containerfile', () => {
  const text = readFileSync(join(ROOT, 'Containerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [word = '', ...rest] = l.split(/\s+/);
      return { word: word.toUpperCase(), args: rest.join(' ') };
    });
  const stages = instructions.filter((i) => i.word === 'FROM').map((i) => /\bAS\s+(\S+)$/i.exec(i.args)?.[1]);

  it('builds in stages: install, build and prune, then a runtime image from the build', () => {
    expect(stages).toEqual(['build', 'runtime']);
    const runs = instructions.filter((i) => i.word === 'RUN').map((i) => i.args);
    expect(runs.join('\n')).toMatch(/npm ci/);
    expect(runs.join('\n')).toMatch(/npm run build/);
    expect(runs.join('\n')).toMatch(/npm prune --omit=dev/);
    for (const copy of instructions.filter((i) => i.word === 'COPY' && i.args.includes('--from'))) {
      expect(stages).toContain(/--from=(\S+)/.exec(copy.args)?.[1]);
    }
  });

  it('uses no BuildKit-only syntax and no HEALTHCHECK', () => {
    expect(text).not.toMatch(/^# ?syntax=/m);
    expect(text).not.toMatch(/RUN\s+--mount|--chmod|--link|<<EOF/);
    expect(instructions.map((i) => i.word)).not.toContain('HEALTHCHECK');
  });

  it('runs as a numeric non-root user: `stups serve <service>`', () => {
    const runtime = instructions.slice(instructions.findLastIndex((i) => i.word === 'FROM'));
    const user = runtime.findLast((i) => i.word === 'USER')?.args ?? '';
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    const entrypoint = JSON.parse(runtime.find((i) => i.word === 'ENTRYPOINT')?.args ?? 'null') as string[];
    expect(entrypoint).toEqual(['node', '/app/bin/stups.js']);
    const cmd = JSON.parse(runtime.find((i) => i.word === 'CMD')?.args ?? 'null') as string[];
    expect(cmd.slice(0, 1)).toEqual(['serve']);
    // The entrypoint's command takes the service as its argument.
    const serve = stupsProgram({} as never).commands.find((c) => c.name() === 'serve');
    expect(serve?.registeredArguments.map((a) => a.name())).toEqual(['service']);
    expect(MODULES.map((m) => m.name)).toContain(cmd[1]);
  });

  it('has the same ignore file for podman/buildah and docker', () => {
    const containerignore = readFileSync(join(ROOT, '.containerignore'), 'utf8');
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).toBe(containerignore);
    expect(containerignore.split('\n')).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });
});
