/**
 * Issue 23's first row: from `git clone` to a console that answers, the way a newcomer meets the
 * platform (`npm ci && npm start`), with the npm cache warm (this machine's) and empty (a fresh
 * temporary cache, so every package comes from the registry), then a second `npm start` with
 * nothing changed. Absolute seconds against the issue's goals (< 60 s; < 5 s for the second
 * start); `git clone` alone is printed as the reference of the same run.
 *
 *   npm run bench -- fresh-clone             warm cache only
 *   BENCH_EMPTY_CACHE=1 npm run bench -- fresh-clone   also the empty cache (needs the registry)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePortBlock } from '../src/stups/free-ports.js';

const ROOT = resolve(import.meta.dirname, '..');
const PORT_BLOCK_SIZE = 20;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return performance.now() - started;
}

/** `npm start` until the console answers 200 on `/`; the platform is stopped afterwards. */
async function startUntilConsoleAnswers(cwd: string): Promise<number> {
  const basePort = await freePortBlock(PORT_BLOCK_SIZE);
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd,
    env: { ...process.env, STUPS_BASE_PORT: String(basePort), STUPS_DATA_DIR: join(cwd, '.stups') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`npm start exited before the console answered:\n${output.slice(-2000)}`);
      if (performance.now() - started > 600_000) throw new Error('console did not answer within 10 minutes');
      try {
        const response = await fetch(`http://127.0.0.1:${basePort}/`);
        if (response.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    // npm start → node: stop the whole process group, and wait so the next start finds the ports free.
    if (child.pid && !exited) {
      process.kill(-child.pid, 'SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

async function freshClone(cache: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'stups-fresh-clone-'));
  try {
    const clone = run('git', ['clone', '-q', ROOT, dir], tmpdir());
    const env = cache ? { npm_config_cache: cache } : {};
    const npmCi = run('npm', ['ci', '--no-audit', '--no-fund'], dir, env);
    const firstStart = await startUntilConsoleAnswers(dir);
    const secondStart = await startUntilConsoleAnswers(dir);
    return { clone, npmCi, firstStart, secondStart };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rows: string[] = [];
const measure = async (label: string, cache: string | undefined) => {
  const r = await freshClone(cache);
  const total = r.clone + r.npmCi + r.firstStart;
  rows.push(
    `| ${label} | ${s(r.clone)} | ${s(r.npmCi)} | ${s(r.firstStart)} | ${s(total)} | ${s(r.secondStart)} |`,
  );
};

await measure('warm npm cache', undefined);
if (process.env.BENCH_EMPTY_CACHE) {
  const cache = mkdtempSync(join(tmpdir(), 'stups-empty-npm-cache-'));
  try {
    await measure('empty npm cache', cache);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
console.log(
  '| npm cache | git clone (reference) | npm ci | npm start → console 200 | total | second npm start |',
);
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log('goals (issue 23): total < 60 s; second npm start < 5 s. Was 136 s (tsc build on every start).');
