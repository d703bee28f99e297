/**
 * Runs every benchmark in bench/ one after another (each prints its own table of ratios).
 * bench/heavy/ holds slow tests instead (`npm run test:heavy`); they are not benchmarks.
 *   npm run bench             all of them
 *   npm run bench -- kio      only those whose file name contains "kio"
 *   npm run bench -- replicas 3/2/1 replicas behind HAProxy (needs PostgreSQL, haproxy, wrk)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';

const dir = import.meta.dirname;
const filter = process.argv[2];
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.includes('support'))
  .filter((f) => !filter || f.includes(filter))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n== bench/${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', resolve(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
