import { spawn } from 'node:child_process';
/**
 * Token service throughput, each figure beside a Fastify hello-world route measured in the same
 * run on the same machine. In-memory PGlite, loopback only, bounded request counts.
 *
 *   npx tsx bench/tokens.ts
 */
import Fastify from 'fastify';
import { TokenVerifier } from '../src/platform/auth/token-verifier.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../src/platform/test-support/service-context.js';
import { createTokenService, tokenServiceMigrations } from '../src/token-service/index.js';
import { userMigrations } from '../src/users/migrations.js';
import { UserStore } from '../src/users/store.js';
import { median } from './stats.js';

const CONCURRENCY = 16;

/** Runs `total` calls of `task` with `concurrency` in flight; returns calls per second. */
async function rate(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function expectOk(response: Response): Promise<unknown> {
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return response.json();
}

function line(name: string, value: number, reference: number, unit: string): void {
  console.log(
    `${name.padEnd(44)} ${value.toFixed(0).padStart(8)} ${unit.padEnd(6)} reference ${reference.toFixed(0).padStart(7)}/s  ratio ${(value / reference).toFixed(3)}`,
  );
}

async function main(): Promise<void> {
  const database = await openDatabase({ kind: 'pglite' });
  await migrateToLatest(database, [
    ...KERNEL_MIGRATIONS,
    { component: 'users', migrations: userMigrations },
    { component: 'token-service', migrations: tokenServiceMigrations },
  ]);
  const ctx = createTestContext(database, new TokenVerifier({ issuers: [] }));
  const service = createTokenService(ctx, { users: new UserStore(database) });
  await service.upsertServiceUser({
    username: 'bench_app',
    password: 'bench-password-123',
    scopes: ['bench.read'],
  });
  await service.upsertClient({
    clientId: 'bench-client',
    type: 'confidential',
    secret: 'bench-client-secret-0123456789',
    realms: ['services'],
    grantTypes: ['password', 'client_credentials'],
    scopes: ['bench.read'],
  });
  const app = await service.createApp();
  const base = await app.listen({ port: 0, host: '127.0.0.1' });

  const hello = Fastify();
  hello.get('/hello', async () => ({ hello: 'world' }));
  const helloBase = await hello.listen({ port: 0, host: '127.0.0.1' });
  const helloRate = (total: number) =>
    rate(total, CONCURRENCY, async () => {
      await expectOk(await fetch(`${helloBase}/hello`));
    });

  const clientAuth = `Basic ${Buffer.from('bench-client:bench-client-secret-0123456789').toString('base64')}`;
  const tokenRequest = (body: Record<string, string>) =>
    fetch(`${base}/oauth2/access_token?realm=/services`, {
      method: 'POST',
      headers: { authorization: clientAuth },
      body: new URLSearchParams(body),
    });

  // Warm-up: JIT, first signing key, connection pools.
  await helloRate(500);
  await expectOk(await tokenRequest({ grant_type: 'client_credentials' }));

  // Measured before and after the grants: the machine is shared, so the reference is their mean.
  const referenceBefore = await helloRate(3000);

  const passwordRate = await rate(200, CONCURRENCY, async () => {
    await expectOk(
      await tokenRequest({
        grant_type: 'password',
        username: 'bench_app',
        password: 'bench-password-123',
        scope: 'uid bench.read',
      }),
    );
  });

  const tokens: string[] = [];
  const credentialsRate = await rate(2000, CONCURRENCY, async () => {
    const body = (await expectOk(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'bench.read' }),
    )) as {
      access_token: string;
    };
    tokens.push(body.access_token);
  });

  const referenceAfterGrants = await helloRate(3000);
  const helloReference = (referenceBefore + referenceAfterGrants) / 2;
  console.log(
    `Fastify hello world (reference): ${helloReference.toFixed(0)} requests/s (runs: ${referenceBefore.toFixed(0)}, ${referenceAfterGrants.toFixed(0)}), concurrency ${CONCURRENCY}`,
  );
  line('password grant over HTTP (scrypt per request)', passwordRate, helloReference, 'tok/s');
  line('client_credentials grant over HTTP', credentialsRate, helloReference, 'tok/s');

  const verifier = new TokenVerifier({
    issuers: [service.trustedIssuer],
    isRevoked: (jti) => service.isRevoked(jti),
  });
  let started = performance.now();
  for (const token of tokens) await verifier.verify(token);
  const coldRate = tokens.length / ((performance.now() - started) / 1000);
  line('TokenVerifier.verify, cold (distinct tokens)', coldRate, helloReference, 'ops/s');

  const hot = tokens[0]!;
  started = performance.now();
  for (let i = 0; i < 50_000; i++) await verifier.verify(hot);
  const cachedRate = 50_000 / ((performance.now() - started) / 1000);
  line('TokenVerifier.verify, cached', cachedRate, helloReference, 'ops/s');

  const tokeninfoRate = await rate(3000, CONCURRENCY, async (i) => {
    await expectOk(await fetch(`${base}/oauth2/tokeninfo?access_token=${tokens[i % tokens.length]}`));
  });
  line('GET /oauth2/tokeninfo over HTTP', tokeninfoRate, helloReference, 'req/s');

  // The rows above share one process between load client and server, so the client limits them.
  // wrk (C, its own process, the tool PERFORMANCE.md's ceilings come from) measures the server.
  // The machine is shared: one pair of runs can land on a quiet and a busy moment. Hello world
  // and tokeninfo alternate for WRK_ROUNDS rounds; each round gives a ratio, the median is printed.
  const rounds: Array<{ hello: WrkResult; tokeninfo: WrkResult }> = [];
  for (let round = 0; round < WRK_ROUNDS; round++) {
    const helloRun = await wrk(`${helloBase}/hello`);
    const tokeninfoRun = await wrk(`${base}/oauth2/tokeninfo?access_token=${hot}`);
    if (!helloRun || !tokeninfoRun) break;
    rounds.push({ hello: helloRun, tokeninfo: tokeninfoRun });
  }
  if (rounds.length > 0) {
    const helloRates = rounds.map((r) => r.hello.rate);
    console.log(
      `\nServer-bound (wrk, 1 thread, ${WRK_CONNECTIONS} connections, ${WRK_SECONDS} s each, ${rounds.length} alternating rounds, medians); reference: Fastify hello world ${median(helloRates).toFixed(0)} req/s (runs: ${helloRates.map((r) => r.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  tokeninfo/hello per round: ${rounds.map((r) => (r.tokeninfo.rate / r.hello.rate).toFixed(3)).join(', ')}`,
    );
    const ratio = median(rounds.map((r) => r.tokeninfo.rate / r.hello.rate));
    line('GET /oauth2/tokeninfo, one token (wrk)', ratio * median(helloRates), median(helloRates), 'req/s');
    // Throughput swings with whatever else the machine runs; this process's CPU time per answered
    // request swings much less, so it is printed too (as requests per CPU-second, higher is better).
    const cpuRatio = median(rounds.map((r) => r.hello.cpuMicros / r.tokeninfo.cpuMicros));
    const helloPerCpuSecond = median(rounds.map((r) => 1e6 / r.hello.cpuMicros));
    line(
      'GET /oauth2/tokeninfo per CPU-second (wrk)',
      cpuRatio * helloPerCpuSecond,
      helloPerCpuSecond,
      'req/s',
    );
  }

  await app.close();
  await hello.close();
  await database.destroy();
}

const WRK_CONNECTIONS = 32;
const WRK_SECONDS = 3;
const WRK_ROUNDS = 5;

interface WrkResult {
  rate: number;
  cpuMicros: number;
}

/**
 * Requests per second `wrk` reaches against `url`, and this process's CPU microseconds per
 * answered request; undefined (and a note) when wrk is missing.
 */
async function wrk(url: string): Promise<WrkResult | undefined> {
  const args = ['-t1', `-c${WRK_CONNECTIONS}`, `-d${WRK_SECONDS}s`, url];
  // Asynchronous on purpose: the servers under test run in this process's event loop.
  const cpuBefore = process.cpuUsage();
  const child = spawn('wrk', args);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.once('close', () => resolve(true));
  });
  if (!started) {
    console.log('wrk is not installed (bash scripts/ensure-system-packages.sh): server-bound rows skipped');
    return undefined;
  }
  const cpu = process.cpuUsage(cpuBefore);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
  if (!rate || !requests || /Non-2xx or 3xx responses/.test(output))
    throw new Error(`wrk against ${url} failed:\n${output}`);
  return { rate, cpuMicros: (cpu.user + cpu.system) / requests };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
