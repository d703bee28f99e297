/**
 * What `npm start` does before `stups up` (scripts/build.mjs), against `node -e ''` in the same run:
 * with nothing changed (a content fingerprint of the sources, no build), and the server's whole
 * transpile as a fresh clone needs it (esbuild, `--force --only server`). Before (issue 23):
 * `tsc` + Vite on every start, ~55 s on this machine kind.
 *
 *   npm run bench -- build
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const SCRIPT = resolve(ROOT, 'scripts/build.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function timed(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
  return ms;
}

// Up to date once, so that the measured no-change runs build nothing.
timed([SCRIPT]);
const reference: number[] = [];
const unchanged: number[] = [];
const server: number[] = [];
for (let i = 0; i < RUNS; i++) {
  reference.push(timed(['-e', '']));
  unchanged.push(timed([SCRIPT]));
}
for (let i = 0; i < Math.min(RUNS, 3); i++) server.push(timed([SCRIPT, '--force', '--only', 'server']));
const ref = median(reference);
const row = (what: string, ms: number, note: string) =>
  console.log(`| ${what} | ${ms.toFixed(0)} ms | ${(ms / ref).toFixed(2)}× | ${note} |`);
console.log(`| what | median | vs node -e '' | note |`);
console.log('|---|---|---|---|');
row("node -e ''", ref, 'reference');
row('npm start preparation, nothing changed', median(unchanged), 'goal: whole second start < 5 s');
row('server + CLIs transpiled from scratch (esbuild)', median(server), 'was tsc, ~51 s');
