/**
 * Cold start and memory of `stups up`, against a Node process serving a Fastify hello-world
 * (the floor for "a Node HTTP service is up"), both measured in this run.
 *
 *   npx tsx bench/startup.ts        (needs `npm run build` first)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVICE_NAMES } from '../src/platform/service-context.js';
import { freePortBlock } from '../src/stups/free-ports.js';
import { median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Sample {
  readyMs: number;
  rssMiB: number;
  peakMiB: number;
}

async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Starts a command, waits for `marker` on stdout, samples memory, stops it with SIGTERM. */
async function measure(
  args: string[],
  marker: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Sample> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolveReady, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(marker)) resolveReady();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before ready: ${out}`)));
  });
  const readyMs = performance.now() - started;
  // Let start-up garbage settle so RSS shows what the process keeps.
  await new Promise((r) => setTimeout(r, 500));
  const { rss, peak } = await memoryOf(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return { readyMs, rssMiB: rss, peakMiB: peak };
}

/** `stups up` on a new data directory, then restarted on it, RUNS times. */
async function runs(cold: Sample[], warm: Sample[], dataDirs: string[]): Promise<void> {
  for (let i = 0; i < RUNS; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'stups-bench-'));
    dataDirs.push(dataDir);
    const basePort = String(await freePortBlock(SERVICE_NAMES.length));
    const args = [
      'bin/stups.js',
      'up',
      '--data-dir',
      dataDir,
      '--base-port',
      basePort,
      '--log-level',
      'warn',
    ];
    const env = { ...process.env, DATABASE_URL: '' };
    cold.push(await measure(args, 'Stop with Ctrl-C.', env));
    warm.push(await measure(args, 'Stop with Ctrl-C.', env));
  }
}

async function main() {
  const helloWorld = `
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    app.get('/', async () => ({ hello: 'world' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    console.log('ready');`;
  const reference: Sample[] = [];
  for (let i = 0; i < RUNS; i++)
    reference.push(await measure(['--input-type=module', '-e', helloWorld], 'ready'));

  const cold: Sample[] = [];
  const warm: Sample[] = [];
  // Removed at the end, not between runs: deleting the last run's ~60 MB just before a first
  // start made that start pay for the file system's discards and journal (ext4 here mounts with
  // `discard`); a newcomer's first start follows no such deletion.
  const dataDirs: string[] = [];
  try {
    await runs(cold, warm, dataDirs);
  } finally {
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }

  const ref = {
    readyMs: median(reference.map((s) => s.readyMs)),
    rssMiB: median(reference.map((s) => s.rssMiB)),
  };
  const row = (name: string, samples: Sample[]) => {
    const ready = median(samples.map((s) => s.readyMs));
    const rss = median(samples.map((s) => s.rssMiB));
    const peak = median(samples.map((s) => s.peakMiB));
    return [
      name.padEnd(34),
      `${ready.toFixed(0).padStart(6)} ms`,
      `${(ready / ref.readyMs).toFixed(1).padStart(6)}×`,
      `${rss.toFixed(0).padStart(5)} MiB`,
      `${(rss / ref.rssMiB).toFixed(1).padStart(6)}×`,
      `${peak.toFixed(0).padStart(5)} MiB`,
    ].join('  ');
  };
  console.log(`stups up start-up (median of ${RUNS}; ratios against a Fastify hello-world process)`);
  console.log(
    `${''.padEnd(34)}  ${'ready'.padStart(9)}  ${'ratio'.padStart(7)}  ${'RSS'.padStart(9)}  ${'ratio'.padStart(7)}  ${'peak'.padStart(9)}`,
  );
  console.log(row('fastify hello-world (reference)', reference));
  console.log(row('stups up, new data directory', cold));
  console.log(row('stups up, restart', warm));
}

await main();
