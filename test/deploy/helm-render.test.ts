import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { skipWithout } from '../../src/platform/test-support/required-parts.js';
import { MODULES } from '../../src/stups/modules.js';

/*
 * The chart rendered by a real helm (scripts/ensure-helm.sh takes it from an npm package and
 * prints its path; scripts/test.sh passes it as STUPS_HELM), then every rendered document
 * validated against the Kubernetes OpenAPI schemas compiled into kubernetes-models 4.5.1.
 * kubernetes-models' validators check types, formats (quantities, ports) and required fields;
 * they do not reject unknown fields, which the API server's strict field validation would.
 * ServiceMonitor is a CRD that kubernetes-models 4.x lacks and no package in the tree carries
 * its schema: its fields are checked by hand below.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'deploy', 'helm', 'stups');
const PRODUCTION = join(ROOT, 'test', 'deploy', 'fixtures', 'production-values.yaml');
const run = promisify(execFile);

function findHelm(): { path?: string; missing?: string } {
  const candidates = [
    process.env.STUPS_HELM,
    join(ROOT, 'node_modules', '.cache', 'stups-helm', 'helm'),
  ].filter((p): p is string => Boolean(p));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return { path };
    } catch {
      // next
    }
  }
  return { missing: `no helm at ${candidates.join(' or ')}; run scripts/ensure-helm.sh` };
}

const helm = findHelm();
const skip = skipWithout('helm', helm.missing);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

async function helmRun(...args: string[]): Promise<string> {
  const { stdout } = await run(helm.path!, args, { maxBuffer: 32 * 1024 * 1024, cwd: ROOT });
  return stdout;
}

async function render(...args: string[]): Promise<K8sObject[]> {
  const text = await helmRun('template', 'stups', CHART, '--namespace', 'stups', ...args);
  const docs = parseAllDocuments(text);
  for (const doc of docs) expect(doc.errors, 'rendered YAML parses').toEqual([]);
  return docs.map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
}

/**
 * The kubernetes-models class of an apiVersion/kind: the package has one module per group,
 * version and kind (`apps/v1/Deployment`, core `v1/Service`). A kind it does not know
 * fails the test: the chart may not render something nothing checks.
 */
async function modelOf(
  apiVersion: string,
  kind: string,
): Promise<new (data: unknown) => { validate(): void }> {
  expect(apiVersion, 'apiVersion shape').toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
  expect(kind, 'kind shape').toMatch(/^[A-Z][A-Za-z]+$/);
  const module = (await import(`kubernetes-models/${apiVersion}/${kind}`).catch((error: unknown) => {
    throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`, { cause: error });
  })) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = module[kind];
  if (!model) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return model;
}

/** The fields of a monitoring.coreos.com/v1 ServiceMonitor the chart sets, by the CRD's rules. */
function checkServiceMonitor(o: K8sObject): void {
  expect(Object.keys(o).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  const spec = o.spec as {
    selector: { matchLabels: Record<string, string> };
    endpoints: Array<Record<string, unknown>>;
  };
  expect(Object.keys(spec).sort()).toEqual(['endpoints', 'selector']);
  expect(Object.keys(spec.selector)).toEqual(['matchLabels']);
  for (const value of Object.values(spec.selector.matchLabels)) expect(typeof value).toBe('string');
  expect(spec.endpoints.length).toBeGreaterThan(0);
  for (const endpoint of spec.endpoints) {
    expect(Object.keys(endpoint).sort()).toEqual(['interval', 'path', 'port']);
    expect(endpoint.port).toBe('http');
    expect(endpoint.path).toBe('/metrics');
    // The CRD's pattern for Duration.
    expect(endpoint.interval).toMatch(
      /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/,
    );
  }
}

async function validateAll(objects: K8sObject[]): Promise<void> {
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata?.name}`;
    expect(o.metadata?.name, where).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(o.metadata.name.length, where).toBeLessThanOrEqual(63);
    if (o.apiVersion === 'monitoring.coreos.com/v1' && o.kind === 'ServiceMonitor') {
      checkServiceMonitor(o);
      continue;
    }
    const Model = await modelOf(o.apiVersion, o.kind);
    expect(() => new Model(o).validate(), where).not.toThrow();
  }
}

const byKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
const component = (o: K8sObject): string | undefined => o.metadata.labels?.['app.kubernetes.io/component'];

interface Container {
  name: string;
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string }; failureThreshold: number };
  readinessProbe: { httpGet: { path: string; port: string } };
}
const container = (d: K8sObject): Container =>
  (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;

describe.skipIf(skip)('Helm chart rendered by helm and validated against the Kubernetes schemas', () => {
  const services = MODULES.map((m) => m.name).sort();
  // The chart cannot render without the two secrets (or an existing Secret): `required`.
  const minimal = [
    '--set',
    'secrets.databaseUrl=postgres://stups@db/stups',
    '--set',
    'secrets.keyEncryptionSecret=0123456789abcdef',
  ];
  let defaults: K8sObject[];
  let production: K8sObject[];

  beforeAll(async () => {
    defaults = await render(...minimal);
    production = await render('-f', PRODUCTION);
  }, 120_000);

  it('is the helm the script pins', async () => {
    expect(await helmRun('version', '--short')).toMatch(/^v4\.1\.4/);
  });

  it('passes helm lint --strict with the default and the production values', async () => {
    expect(await helmRun('lint', CHART, '--strict', ...minimal)).toContain('0 chart(s) failed');
    expect(await helmRun('lint', CHART, '--strict', '-f', PRODUCTION)).toContain('0 chart(s) failed');
  }, 60_000);

  it('refuses to render without the secrets, naming the value', async () => {
    await expect(helmRun('template', 'stups', CHART)).rejects.toThrow(
      /secrets\.databaseUrl \(or secrets\.existingSecret\) is required/,
    );
  });

  it('renders only valid objects with the default values', async () => {
    expect(defaults.length).toBeGreaterThan(3 * services.length);
    await validateAll(defaults);
  }, 60_000);

  it('renders only valid objects with the production values', async () => {
    await validateAll(production);
    expect(byKind(production, 'ServiceMonitor').length).toBeGreaterThan(0);
  }, 60_000);

  it('fails validation for a broken object (the validator is live)', async () => {
    const deployment = structuredClone(byKind(defaults, 'Deployment')[0]!);
    container(deployment).resources.limits.memory = '512 megs';
    const Model = await modelOf('apps/v1', 'Deployment');
    expect(() => new Model(deployment).validate()).toThrow(/quantity/);
    await expect(modelOf('example.org/v1', 'Widget')).rejects.toThrow(
      'kubernetes-models has no example.org/v1 Widget',
    );
  });

  it('defaults: one Deployment, Service and PDB per service, probes on /health, no HPA or ServiceMonitor', () => {
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget']) {
      expect(byKind(defaults, kind).map(component).sort(), kind).toEqual(services);
    }
    expect(byKind(defaults, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(byKind(defaults, 'ServiceMonitor')).toEqual([]);
    expect(byKind(defaults, 'Secret')).toHaveLength(1);
    for (const d of byKind(defaults, 'Deployment')) {
      const name = component(d)!;
      expect(d.spec!.replicas, name).toBe(2);
      const c = container(d);
      expect(c.args).toEqual(['serve', name, '--port', '8080']);
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        expect(probe.httpGet).toEqual({ path: '/health', port: 'http' });
      }
      // Every service knows every other's public URL.
      const urls = c.env.filter((e) => e.name.startsWith('STUPS_URL_')).map((e) => e.name);
      expect(urls).toHaveLength(services.length);
    }
    const ingress = byKind(defaults, 'Ingress')[0]!;
    const rules = (ingress.spec as { rules: Array<{ host: string }> }).rules;
    expect(rules.map((r) => r.host).sort()).toEqual(services.map((s) => `${s}.stups.example.org`).sort());
    expect(ingress.spec!.tls).toBeUndefined();
  });

  it('production: 3 replicas, existing Secret, TLS, ServiceMonitors, and per-service overrides merged', () => {
    const enabled = services.filter((s) => s !== 'sandbox');
    const deployments = new Map(byKind(production, 'Deployment').map((d) => [component(d)!, d]));
    expect([...deployments.keys()].sort()).toEqual(enabled);
    // No chart-made Secret: the pods read the named one.
    expect(byKind(production, 'Secret')).toEqual([]);
    for (const [name, d] of deployments) {
      const c = container(d);
      const db = c.env.find((e) => e.name === 'DATABASE_URL');
      expect(db?.valueFrom, name).toEqual({
        secretKeyRef: { name: 'stups-production', key: 'database-url' },
      });
      expect(c.env.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=768');
      expect(c.env.find((e) => e.name === 'STUPS_BLOB_BUCKET')?.value).toBe('stups-blobs-prod');
      if (name === 'token-service') expect(d.spec!.replicas, 'autoscaled').toBeUndefined();
      else if (name === 'fullstop') expect(d.spec!.replicas).toBe(1);
      else expect(d.spec!.replicas, name).toBe(3);
      // pierone's requests from the chart's values.yaml, its limit from the production file.
      if (name === 'pierone') {
        expect(c.resources).toEqual({
          requests: { cpu: '200m', memory: '512Mi' },
          limits: { memory: '2Gi' },
        });
      } else {
        expect(c.resources, name).toEqual({
          requests: { cpu: '250m', memory: '384Mi' },
          limits: { memory: '768Mi' },
        });
      }
      // mergeOverwrite in stups.serviceValues: even's one probe field over the defaults' others.
      expect(c.livenessProbe, name).toMatchObject({
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold: name === 'even' ? 10 : 6,
      });
      expect(c.env.find((e) => e.name === 'STUPS_URL_PIERONE')?.value).toBe('https://registry.corp.example');
    }
    // An explicit `false` survives the merge: no PDB for fullstop, nothing at all for sandbox.
    expect(byKind(production, 'PodDisruptionBudget').map(component).sort()).toEqual(
      enabled.filter((s) => s !== 'fullstop'),
    );
    const hpas = byKind(production, 'HorizontalPodAutoscaler');
    expect(hpas.map(component)).toEqual(['token-service']);
    expect(hpas[0]!.spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 9,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'stups-token-service' },
    });
    const monitors = byKind(production, 'ServiceMonitor');
    expect(monitors.map(component).sort()).toEqual(enabled);
    for (const m of monitors) expect(m.metadata.labels?.release).toBe('kube-prometheus-stack');
    const ingress = byKind(production, 'Ingress')[0]!;
    expect(ingress.spec!.ingressClassName).toBe('nginx');
    const tls = ingress.spec!.tls as Array<{ secretName: string; hosts: string[] }>;
    expect(tls).toHaveLength(1);
    expect(tls[0]!.secretName).toBe('stups-wildcard-tls');
    expect(tls[0]!.hosts).toContain('registry.corp.example');
    expect(tls[0]!.hosts).not.toContain('sandbox.stups.corp.example');
    // Each Service selects exactly its Deployment's pods.
    for (const s of byKind(production, 'Service')) {
      const d = deployments.get(component(s)!)!;
      const selector = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      expect(s.spec!.selector).toEqual(selector);
    }
  });
});
