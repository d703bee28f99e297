/**
 * Kio at scale: 100,000 realistic applications in PostgreSQL (a schema of its own, dropped
 * at the end), then real HTTP on loopback against the Kio app:
 *   GET /apps/{id}, GET /apps?search=<common word>, GET /apps?search=<rare word>
 * and, over the same pg pool in the same run, a raw single-row SELECT: the physical ceiling
 * of `GET /apps/{id}`. Absolute figures drift on shared machines; the ratio is what compares.
 *
 *   npx tsx bench/kio.ts [--apps 100000] [--requests 20000] [--concurrency 16]
 *   KIO_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (default)
 *
 * The load generator runs in a worker thread, so that the client does not steal the
 * server's event loop.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { createKioService, kioMigrations } from '../src/kio/index.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../src/platform/test-support/service-context.js';
import { createTestIssuer } from '../src/platform/test-support/test-issuer.js';
import { TeamStore, teamMigrations } from '../src/teams/index.js';

const { values: args } = parseArgs({
  options: {
    apps: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '20000' },
    'search-requests': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    pool: { type: 'string', default: '8' },
    /** Reuse (or create and keep) this schema instead of a fresh one that is dropped. */
    schema: { type: 'string' },
  },
});
const APP_COUNT = Number(args.apps);
const REQUESTS = Number(args.requests);
const SEARCH_REQUESTS = Number(args['search-requests']);
const CONCURRENCY = Number(args.concurrency);
const POOL_SIZE = Number(args.pool);
const DATABASE_URL = process.env.KIO_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Deterministic data: the same seed gives the same 100,000 applications on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(42);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

// Words engineers put into application names and descriptions. "service" is the common
// word of the benchmark (in about 40% of the applications); "quokka" the rare one.
const DOMAIN = [
  'order',
  'customer',
  'payment',
  'invoice',
  'catalog',
  'article',
  'stock',
  'warehouse',
  'shipment',
  'return',
  'price',
  'search',
  'recommendation',
  'review',
  'cart',
  'checkout',
  'coupon',
  'voucher',
  'fraud',
  'identity',
  'token',
  'session',
  'profile',
  'address',
  'notification',
  'email',
  'report',
  'analytics',
  'event',
  'stream',
  'image',
  'media',
  'content',
  'brand',
  'size',
  'supplier',
  'delivery',
  'tracking',
  'label',
  'tax',
  'currency',
  'ledger',
  'audit',
  'config',
  'feature',
  'experiment',
];
const KINDS = [
  'api',
  'service',
  'engine',
  'worker',
  'store',
  'gateway',
  'ui',
  'sync',
  'importer',
  'exporter',
];
const FILLER = [
  'the',
  'and',
  'for',
  'with',
  'from',
  'into',
  'handles',
  'stores',
  'serves',
  'validates',
  'computes',
  'publishes',
  'consumes',
  'aggregates',
  'exposes',
  'receives',
  'forwards',
  'caches',
  'indexes',
  'requests',
  'records',
  'updates',
  'all',
  'every',
  'internal',
  'external',
  'nightly',
  'realtime',
  'batch',
  'queue',
  'database',
  'cluster',
  'team',
  'platform',
  'legacy',
  'new',
  'fast',
  'reliable',
  'backend',
  'frontend',
  'mobile',
  'partner',
  'merchant',
  'region',
  'country',
  'logistics',
  'finance',
];

function sentence(words: number, mustContain?: string): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(random() < 0.35 ? pick(DOMAIN) : pick(FILLER));
  if (mustContain) out.splice(Math.floor(random() * out.length), 0, mustContain);
  out[0] = out[0]!.charAt(0).toUpperCase() + out[0]!.slice(1);
  return `${out.join(' ')}.`;
}

interface GeneratedApp {
  id: string;
  team_id: string;
  active: boolean;
  name: string;
  subtitle: string;
  description: string;
  service_url: string;
  scm_url: string;
  criticality_level: number;
  publicly_accessible: boolean;
  incident_contact: string;
  required_approvers: number;
  created: Date;
  created_by: string;
  last_modified: Date;
  last_modified_by: string;
}

function generateApp(n: number, teams: readonly string[]): GeneratedApp {
  const a = pick(DOMAIN);
  const b = pick(DOMAIN);
  const kind = random() < 0.4 ? 'service' : pick(KINDS);
  const id = `${a}-${b}-${kind}-${n.toString(36)}`;
  const team = pick(teams);
  const rare = n % 10_000 === 7 ? 'quokka' : undefined; // 10 applications in 100,000
  const sentences = 1 + Math.floor(random() * 4);
  const description = Array.from({ length: sentences }, (_, i) =>
    sentence(8 + Math.floor(random() * 20), i === 0 ? rare : undefined),
  ).join(' ');
  const created = new Date(Date.UTC(2015, 0, 1) + Math.floor(random() * 3000) * 86_400_000);
  return {
    id,
    team_id: team,
    active: random() < 0.85,
    name: `${a} ${b} ${kind}`.replace(/\b\w/g, (c) => c.toUpperCase()),
    subtitle: sentence(3 + Math.floor(random() * 6)),
    description,
    service_url: `https://${id}.${team}.example.org`,
    scm_url: `https://github.example.org/${team}/${id}`,
    criticality_level: 1 + Math.floor(random() * 4),
    publicly_accessible: random() < 0.1,
    incident_contact: `${team}-oncall`,
    required_approvers: 2,
    created,
    created_by: `user${Math.floor(random() * 500)}`,
    last_modified: new Date(created.getTime() + Math.floor(random() * 400) * 86_400_000),
    last_modified_by: `user${Math.floor(random() * 500)}`,
  };
}

/** The load loops, in plain JavaScript so that the worker needs no TypeScript loader. */
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, paths, total, concurrency, headers } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function request(path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => res.statusCode === 200 ? resolve(bytes) : reject(new Error(path + ' answered ' + res.statusCode)));
    });
    req.on('error', reject);
    req.end();
  });
}
(async () => {
  const latencies = new Float64Array(total);
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const received = await request(paths[i % paths.length]);
      bytes += received;
      latencies[i] = performance.now() - t0;
    }
  }));
  const elapsed = performance.now() - started;
  agent.destroy();
  parentPort.postMessage({ latencies, elapsed, bytes });
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

interface Measurement {
  name: string;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  avgBytes?: number;
}

function summarize(name: string, latencies: Float64Array, elapsedMs: number, bytes?: number): Measurement {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    name,
    requests: sorted.length,
    perSecond: (sorted.length / elapsedMs) * 1000,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1]!,
    ...(bytes !== undefined ? { avgBytes: bytes / sorted.length } : {}),
  };
}

async function httpLoad(
  name: string,
  port: number,
  paths: string[],
  total: number,
  headers: Record<string, string>,
  concurrency = CONCURRENCY,
): Promise<Measurement> {
  const result = await new Promise<{ latencies: Float64Array; elapsed: number; bytes: number }>(
    (resolve, reject) => {
      const worker = new Worker(LOAD_WORKER, {
        eval: true,
        workerData: { port, paths, total, concurrency, headers },
      });
      worker.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
      worker.once('error', reject);
    },
  );
  return summarize(name, result.latencies, result.elapsed, result.bytes);
}

/**
 * `total` calls of `call(i)`, `concurrency` at a time (closed loop: each worker starts its next
 * call when the last one ended); the latency of each.
 */
async function closedLoop(
  name: string,
  total: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  const latencies = new Float64Array(total);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await call(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  return summarize(name, latencies, performance.now() - started);
}

function rawSelectLoad<Tables>(
  db: Kysely<Tables>,
  ids: string[],
  total: number,
  concurrency = CONCURRENCY,
): Promise<Measurement> {
  return closedLoop(`raw SELECT by id, same pool (c=${concurrency})`, total, concurrency, (i) =>
    sql`select id, team_id, active, name, subtitle, description, service_url, scm_url,
        documentation_url, specification_url, support_url, specification_type, criticality_level,
        publicly_accessible, incident_contact, required_approvers, created, created_by,
        last_modified, last_modified_by
      from kio_applications where id = ${ids[i % ids.length]}`.execute(db),
  );
}

/** Kio's own share of `GET /apps/{id}`: the registry call the route makes, without HTTP and auth. */
function registryGetLoad(
  get: (id: string) => Promise<unknown>,
  ids: string[],
  total: number,
  concurrency = CONCURRENCY,
): Promise<Measurement> {
  return closedLoop(`registry.get in process (c=${concurrency})`, total, concurrency, (i) =>
    get(ids[i % ids.length]!),
  );
}

function table(rows: Measurement[]): string {
  const header = ['scenario', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'avg bytes'];
  const body = rows.map((r) => [
    r.name,
    String(r.requests),
    r.perSecond.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.max.toFixed(1),
    r.avgBytes === undefined ? '' : r.avgBytes.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const keep = args.schema !== undefined;
  const schema = args.schema ?? `bench_kio_${randomBytes(4).toString('hex')}`;
  const database = await openDatabase({ kind: 'postgres', url: DATABASE_URL, schema, poolSize: POOL_SIZE });
  const log = (message: string) => process.stderr.write(`${message}\n`);
  try {
    await migrateToLatest(database, [
      ...KERNEL_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
      { component: 'kio', migrations: kioMigrations },
    ]);
    const teamStore = new TeamStore(database);
    const teams = Array.from({ length: 60 }, (_, i) => `team-${i}`);
    for (const team of teams)
      await teamStore.putTeam(team, { name: team, members: [`user${teams.indexOf(team)}`] });

    const db = database.kysely<{ kio_applications: GeneratedApp }>();
    const ids: string[] = [];
    const existing = await db.selectFrom('kio_applications').select('id').execute();
    if (existing.length) log(`reusing ${existing.length} applications in schema ${schema}`);
    for (const row of existing) ids.push(row.id);
    log(`generating ${APP_COUNT} applications in schema ${schema} …`);
    const t0 = performance.now();
    for (let start = existing.length ? APP_COUNT : 0; start < APP_COUNT; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, APP_COUNT - start) }, (_, i) =>
        generateApp(start + i, teams),
      );
      for (const app of batch) ids.push(app.id);
      await db.insertInto('kio_applications').values(batch).execute();
    }
    await sql`analyze kio_applications`.execute(db);
    log(`  inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const counts = await sql<{ common: string; rare: string }>`
      select count(*) filter (where search_vector @@ websearch_to_tsquery('english', 'service')) as common,
             count(*) filter (where search_vector @@ websearch_to_tsquery('english', 'quokka')) as rare
      from kio_applications`.execute(db);
    const { common, rare } = counts.rows[0]!;

    const issuer = await createTestIssuer();
    const ctx = createTestContext(database, issuer.verifier);
    const kio = createKioService(ctx, { teams: teamStore });
    const app = await kio.createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    // The same Kio without the search cache: what a search costs when it misses (a new query,
    // or the first one after a write).
    const uncachedKio = createKioService(ctx, { teams: teamStore, searchCache: { entries: 0 } });
    const uncachedApp = await uncachedKio.createApp();
    await uncachedApp.listen({ host: '127.0.0.1', port: 0 });
    const uncachedPort = (uncachedApp.server.address() as AddressInfo).port;
    await database.changes.whenListening();
    const headers = { authorization: `Bearer ${await issuer.token({ uid: 'bench' })}` };

    // Random ids, the same list for the HTTP run and the raw SELECTs.
    const sample = Array.from({ length: 5000 }, () => pick(ids));
    const byIdPaths = sample.map((id) => `/apps/${id}`);
    const commonWords = ['service', 'services', 'service order', 'payment service'];
    const rareWords = ['quokka', 'quokkas'];

    log('warming up …');
    await httpLoad('warm-up', port, byIdPaths, 2000, headers);
    await httpLoad('warm-up', port, ['/apps?search=service', '/apps?search=quokka'], 300, headers);
    await httpLoad('warm-up', uncachedPort, ['/apps?search=service', '/apps?search=quokka'], 300, headers);
    await rawSelectLoad(db, sample, 2000);

    log('measuring …');
    const search = (words: string[], suffix = '') =>
      words.map((w) => `/apps?search=${encodeURIComponent(w)}${suffix}`);
    // Throughput with many requests in flight; latency one request at a time, where the
    // time measured is the service's and not the queue's.
    const raw = await rawSelectLoad(db, sample, REQUESTS);
    const byId = await httpLoad(`GET /apps/{id} (c=${CONCURRENCY})`, port, byIdPaths, REQUESTS, headers);
    const rawSerial = await rawSelectLoad(db, sample, REQUESTS / 4, 1);
    const registryGet = await registryGetLoad((id) => kio.registry.get(id), sample, REQUESTS);
    const byIdSerial = await httpLoad('GET /apps/{id} (c=1)', port, byIdPaths, REQUESTS / 4, headers, 1);
    const commonName = `GET /apps?search=<common> (${common} matches)`;
    const rareName = `GET /apps?search=<rare> (${rare} matches)`;
    const commonSearch = await httpLoad(
      `${commonName} (c=${CONCURRENCY})`,
      port,
      search(commonWords),
      SEARCH_REQUESTS,
      headers,
    );
    const commonSerial = await httpLoad(
      `${commonName} (c=1)`,
      port,
      search(commonWords),
      SEARCH_REQUESTS / 4,
      headers,
      1,
    );
    const commonPage = await httpLoad(
      '  … &limit=20 (c=1)',
      port,
      search(commonWords, '&limit=20'),
      SEARCH_REQUESTS / 4,
      headers,
      1,
    );
    const rareSearch = await httpLoad(
      `${rareName} (c=${CONCURRENCY})`,
      port,
      search(rareWords),
      SEARCH_REQUESTS,
      headers,
    );
    const rareSerial = await httpLoad(
      `${rareName} (c=1)`,
      port,
      search(rareWords),
      SEARCH_REQUESTS / 4,
      headers,
      1,
    );
    const uncachedCommon = await httpLoad(
      `${commonName}, no cache (c=${CONCURRENCY})`,
      uncachedPort,
      search(commonWords),
      SEARCH_REQUESTS,
      headers,
    );
    const uncachedCommonSerial = await httpLoad(
      `${commonName}, no cache (c=1)`,
      uncachedPort,
      search(commonWords),
      SEARCH_REQUESTS / 4,
      headers,
      1,
    );
    const uncachedRare = await httpLoad(
      `${rareName}, no cache (c=${CONCURRENCY})`,
      uncachedPort,
      search(rareWords),
      SEARCH_REQUESTS,
      headers,
    );
    await app.close();
    await uncachedApp.close();

    const rows = [
      byId,
      byIdSerial,
      commonSearch,
      commonSerial,
      commonPage,
      rareSearch,
      rareSerial,
      uncachedCommon,
      uncachedCommonSerial,
      uncachedRare,
      registryGet,
      raw,
      rawSerial,
    ];
    process.stdout.write(
      `\nKio with ${APP_COUNT} applications, PostgreSQL pool ${POOL_SIZE}, ${CONCURRENCY} concurrent loops, ` +
        `default search answer ${kio.registry.searchSettings.defaultLimit} hits from at most ` +
        `${kio.registry.searchSettings.candidateLimit} ranked candidates; ` +
        `machine load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}\n\n${table(rows)}\n\n` +
        `GET /apps/{id} throughput / raw SELECT throughput: ${(byId.perSecond / raw.perSecond).toFixed(2)} ` +
        `(c=${CONCURRENCY}), ${(byIdSerial.perSecond / rawSerial.perSecond).toFixed(2)} (c=1); ` +
        `registry.get / raw SELECT: ${(registryGet.perSecond / raw.perSecond).toFixed(2)} (c=${CONCURRENCY})\n` +
        `targets: GET /apps/{id} ≥ 0.6× raw SELECT (c=${CONCURRENCY}): ` +
        `${byId.perSecond / raw.perSecond >= 0.6 ? 'met' : 'MISSED'}; ` +
        `search p99 < 20 ms (c=${CONCURRENCY}): ${Math.max(commonSearch.p99, rareSearch.p99) < 20 ? 'met' : 'MISSED'}, ` +
        `without the cache: ${Math.max(uncachedCommon.p99, uncachedRare.p99) < 20 ? 'met' : 'MISSED'}\n`,
    );
  } finally {
    await database.destroy();
    if (!keep) {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  }
}

await main();
