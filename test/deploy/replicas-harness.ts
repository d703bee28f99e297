import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import S3rver from 's3rver';
import { stringify as toYaml } from 'yaml';
import type { ServiceName } from '../../src/platform/service-context.js';
import { TEST_POSTGRES_URL } from '../../src/platform/test-support/databases.js';
import { freePortBlock } from '../../src/stups/free-ports.js';
import { MODULES } from '../../src/stups/modules.js';

/*
 * N replicas of services as separate `stups serve <service>` processes (the Helm chart's pods)
 * on the machine's PostgreSQL (a fresh database per harness), blobs on s3rver, each replica on
 * its own port with its own data directory, and HAProxy in front: one frontend per service,
 * round-robin without stickiness, health checks on /health, idempotent requests retried on
 * another replica when one dies under them. Every replica is spawned at the same moment on the
 * empty database, so migrations and org seeding race as they would when a Deployment's pods
 * start together.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

export const BUCKET = 'stups-blobs';

export interface Replica {
  readonly service: ServiceName;
  readonly index: number;
  readonly port: number;
  /** Direct URL, bypassing HAProxy. */
  readonly url: string;
  readonly dataDir: string;
  readonly logFile: string;
  process: ChildProcess | undefined;
  /** Process starts of this replica (1 after the harness started). */
  starts: number;
}

export interface ReplicaHarnessOptions {
  /** Replicas per service (default 3). */
  replicas?: number;
  /** Services to run (default every one `stups serve` knows). */
  services?: readonly ServiceName[];
  /** Settings tree written to the shared stups.yaml (STUPS_CONFIG); may use the shared directory. */
  settings?: Record<string, unknown> | ((dirs: { shared: string }) => Record<string, unknown>);
  /** Extra environment for every replica. */
  env?: Record<string, string>;
  /** How long a replica may take to answer /health 200 (default 180 s: the machine has 2 cores). */
  startTimeoutMs?: number;
}

export interface ReplicaHarness {
  /** The load balancer's URL of each service: what clients (and the platform's URLs) use. */
  readonly urls: Record<ServiceName, string>;
  readonly replicas: readonly Replica[];
  readonly databaseUrl: string;
  /** Directory shared by every replica (mint's disk buckets live here). */
  readonly sharedDir: string;
  /** Milliseconds from spawning every replica to the last one answering /health. */
  readonly startedInMs: number;
  replicasOf(service: ServiceName): Replica[];
  /** One query on the harness's database. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Kills a replica (SIGKILL by default: a crash; SIGTERM: a drain) and waits for it to exit. */
  kill(replica: Replica, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped replica again on its port and data directory; resolves when /health is 200. */
  restart(replica: Replica): Promise<void>;
  /** The last lines of a replica's log (stdout and stderr). */
  logTail(replica: Replica, lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Builds dist/ when its sources changed (bin/stups.js runs the built CLI); incremental. */
async function ensureBuilt(): Promise<void> {
  await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--only', 'server'], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!existsSync(join(ROOT, 'dist', 'stups', 'cli', 'main.js'))) throw new Error('dist/ was not built');
}

function haproxyConfig(
  frontends: Array<{ service: ServiceName; port: number; replicas: Replica[] }>,
  pidFile: string,
): string {
  const lines = [
    'global',
    '  maxconn 4096',
    `  pidfile ${pidFile}`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout http-keep-alive 10s',
    // A request that failed to reach a replica (or got nothing back) is sent again, to another
    // replica: HAProxy retries only what it may (idempotent methods, or nothing sent yet).
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response response-timeout 502 503 504',
    '  option http-buffer-request',
    '  balance roundrobin',
    // Health checks on /health: a dead replica is out after two failed checks (1 s).
    '  option httpchk GET /health',
    '  http-check expect status 200',
    '  default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 1',
  ];
  for (const { service, port, replicas } of frontends) {
    lines.push(
      `frontend fe_${service}`,
      `  bind 127.0.0.1:${port}`,
      `  default_backend be_${service}`,
      `backend be_${service}`,
      ...replicas.map((r) => `  server ${service}-${r.index} 127.0.0.1:${r.port} check`),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function waitForHealth(replica: Replica, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  const child = replica.process;
  child?.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  for (;;) {
    if (exited) throw new Error(`${replica.service}-${replica.index} ${exited} before answering /health`);
    try {
      const response = await fetch(`${replica.url}/health`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${replica.service}-${replica.index} did not answer /health within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitForPort(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`HAProxy at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startReplicas(options: ReplicaHarnessOptions = {}): Promise<ReplicaHarness> {
  const count = options.replicas ?? 3;
  const services = options.services ?? MODULES.map((m) => m.name);
  const startTimeoutMs = options.startTimeoutMs ?? 180_000;
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    await ensureBuilt();
    const root = await mkdtemp(join(tmpdir(), 'stups-replicas-'));
    // STUPS_KEEP_REPLICAS=1 keeps the replicas' data and logs for reading after a failure.
    if (!process.env.STUPS_KEEP_REPLICAS) cleanups.push(() => rm(root, { recursive: true, force: true }));
    const sharedDir = join(root, 'shared');
    await mkdir(sharedDir);

    // A fresh database: the replicas find it empty.
    const database = `stups_replicas_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const databaseUrl = Object.assign(new URL(TEST_POSTGRES_URL), { pathname: `/${database}` }).toString();
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // An idle client is cut off when the database is dropped at the end: not an error.
    pool.on('error', () => undefined);
    cleanups.push(async () => {
      await pool.end();
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => client.end());
    });

    const s3 = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(root, 's3'),
      configureBuckets: [{ name: BUCKET }],
    });
    const { port: s3Port } = await s3.run();
    cleanups.push(() => s3.close());

    // A block below the ephemeral range: with 33 replicas opening hundreds of outgoing
    // connections while they start, a port picked by listen(0) could be taken by one of those
    // connections before its replica binds it (seen by a helper in session 10: a replica exited
    // with EADDRINUSE and its health check was answered by whoever held the port).
    const portCount = services.length * (count + 1);
    const base = await freePortBlock(portCount);
    const ports = Array.from({ length: portCount }, (_, i) => base + i);
    const urls = Object.fromEntries(MODULES.map((m) => [m.name, ''])) as Record<ServiceName, string>;
    const frontends = services.map((service, i) => {
      const port = ports[i]!;
      urls[service] = `http://127.0.0.1:${port}`;
      return { service, port, replicas: [] as Replica[] };
    });
    const replicas: Replica[] = [];
    let next = services.length;
    for (const frontend of frontends) {
      for (let index = 0; index < count; index++) {
        const port = ports[next++]!;
        const dataDir = join(root, `${frontend.service}-${index}`);
        const replica: Replica = {
          service: frontend.service,
          index,
          port,
          url: `http://127.0.0.1:${port}`,
          dataDir,
          logFile: join(root, `${frontend.service}-${index}.log`),
          process: undefined,
          starts: 0,
        };
        frontend.replicas.push(replica);
        replicas.push(replica);
      }
    }

    const configFile = join(root, 'stups.yaml');
    const settings =
      typeof options.settings === 'function' ? options.settings({ shared: sharedDir }) : options.settings;
    await writeFile(configFile, toYaml(settings ?? {}));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      DATABASE_URL: databaseUrl,
      STUPS_KEY_ENCRYPTION_SECRET: randomBytes(24).toString('base64url'),
      STUPS_HOST: '127.0.0.1',
      STUPS_PLATFORM__SELF_SIGNED: 'false',
      STUPS_LOG_LEVEL: 'warn',
      // The AWS SDK's Node-version notice would fill every replica's log.
      NODE_NO_WARNINGS: '1',
      STUPS_CONFIG: configFile,
      STUPS_BLOB_BUCKET: BUCKET,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${s3Port}`,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      // Services other than these are not running; their URLs still name a load-balanced port.
      ...Object.fromEntries(
        services.map((s) => [`STUPS_URL_${s.toUpperCase().replace(/-/g, '_')}`, urls[s]]),
      ),
      ...options.env,
    };

    const spawnReplica = async (replica: Replica): Promise<void> => {
      await mkdir(replica.dataDir, { recursive: true });
      const log = createWriteStream(replica.logFile, { flags: 'a' });
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin', 'stups.js'), 'serve', replica.service, '--port', String(replica.port)],
        { cwd: ROOT, env: { ...env, STUPS_DATA_DIR: replica.dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      child.once('exit', () => log.end());
      replica.process = child;
      replica.starts++;
    };
    const killReplica = async (replica: Replica, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
      const child = replica.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
      replica.process = undefined;
    };
    cleanups.push(() => Promise.all(replicas.map((r) => killReplica(r, 'SIGKILL'))));

    // Every replica at the same moment, on the empty database.
    const spawned = Date.now();
    await Promise.all(replicas.map(spawnReplica));
    try {
      await Promise.all(replicas.map((r) => waitForHealth(r, startTimeoutMs)));
    } catch (error) {
      const tails = await Promise.all(
        replicas.map(async (r) => `--- ${r.service}-${r.index}\n${await tail(r.logFile, 15)}`),
      );
      throw new Error(`${(error as Error).message}\n${tails.join('\n')}`, { cause: error });
    }
    const startedInMs = Date.now() - spawned;

    const pidFile = join(root, 'haproxy.pid');
    const haproxyCfg = join(root, 'haproxy.cfg');
    await writeFile(haproxyCfg, haproxyConfig(frontends, pidFile));
    await run('haproxy', ['-c', '-q', '-f', haproxyCfg]);
    const haproxy = spawn('haproxy', ['-db', '-f', haproxyCfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let haproxyErr = '';
    haproxy.stderr.on('data', (chunk: Buffer) => {
      haproxyErr = (haproxyErr + chunk.toString()).slice(-4000);
    });
    cleanups.push(async () => {
      if (haproxy.exitCode !== null || haproxy.signalCode !== null) return;
      const exited = new Promise((resolve) => haproxy.once('exit', resolve));
      haproxy.kill('SIGTERM');
      await exited;
    });
    try {
      await Promise.all(services.map((s) => waitForPort(urls[s], 15_000)));
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${haproxyErr}`, { cause: error });
    }

    return {
      urls,
      replicas,
      databaseUrl,
      sharedDir,
      startedInMs,
      replicasOf: (service) => replicas.filter((r) => r.service === service),
      query: async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
        (await pool.query<R>(text, values)).rows,
      kill: killReplica,
      restart: async (replica) => {
        if (replica.process) throw new Error(`${replica.service}-${replica.index} is running`);
        await spawnReplica(replica);
        await waitForHealth(replica, startTimeoutMs);
      },
      logTail: (replica, lines = 20) => tail(replica.logFile, lines),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

/** Why the harness cannot run here (undefined: it can): HAProxy missing. */
export async function haproxyMissing(): Promise<string | undefined> {
  try {
    await run('haproxy', ['-v']);
    return undefined;
  } catch {
    return 'haproxy is not installed (scripts/ensure-system-packages.sh installs it)';
  }
}
