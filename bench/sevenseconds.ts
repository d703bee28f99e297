/**
 * Seven Seconds: wall time and SDK calls of `plan` and of a no-op `configure` for 50 accounts on
 * moto_server (loopback), after one `configure` that builds them. Prints calls per account and
 * accounts per minute.
 *
 *   npx tsx bench/sevenseconds.ts
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/platform/cli/run-cli.js';
import { captureIo } from '../src/platform/test-support/cli-io.js';
import { MOTO_REGION, motoEnv, startMoto } from '../src/senza/test-support/moto.js';
import type { AwsCall } from '../src/sevenseconds/aws/clients.js';
import { sevensecondsProgram } from '../src/sevenseconds/cli/main.js';
import { structureYaml } from '../src/sevenseconds/test-support/structure.js';

const ACCOUNTS = 50;
const CONCURRENCY = 8;

const moto = await startMoto();
const dir = await mkdtemp(join(tmpdir(), 'sevenseconds-bench-'));
const file = join(dir, 'accounts.yaml');
await writeFile(file, structureYaml({ teams: ACCOUNTS - 1, endpointRegion: MOTO_REGION }));

async function run(command: 'plan' | 'configure') {
  const io = await captureIo({ env: motoEnv(moto.endpoint) });
  const byService = new Map<string, number>();
  let calls = 0;
  const record = (call: AwsCall) => {
    calls++;
    byService.set(call.service, (byService.get(call.service) ?? 0) + 1);
  };
  const started = performance.now();
  const code = await runCli(
    sevensecondsProgram({ io, record }),
    [command, file, '*', '--concurrency', String(CONCURRENCY)],
    io,
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = io.out().trim().split('\n').at(-1);
  await io.cleanup();
  if (code !== 0) throw new Error(`${command} exited ${code}: ${summary}`);
  return { seconds, calls, byService, summary };
}

try {
  const rows: [string, Awaited<ReturnType<typeof run>>][] = [];
  rows.push(['configure (from nothing)', await run('configure')]);
  rows.push(['plan (converged)', await run('plan')]);
  rows.push(['configure (no-op)', await run('configure')]);
  console.log(`sevenseconds, ${ACCOUNTS} accounts on moto_server, --concurrency ${CONCURRENCY}`);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(26)} ${r.seconds.toFixed(1).padStart(6)} s  ${String(r.calls).padStart(6)} calls  ${(r.calls / ACCOUNTS).toFixed(1).padStart(6)} calls/account  ${((ACCOUNTS / r.seconds) * 60).toFixed(0).padStart(5)} accounts/min  (${r.summary})`,
    );
  }
  // Where a converged account's calls go, so the next saving is easy to find.
  const noop = rows.at(-1)![1];
  console.log(
    `no-op configure, calls per account by service: ${[...noop.byService]
      .sort(([, a], [, b]) => b - a)
      .map(([service, n]) => `${service} ${(n / ACCOUNTS).toFixed(1)}`)
      .join(', ')}`,
  );
} finally {
  await moto.stop();
  await rm(dir, { recursive: true, force: true });
}
