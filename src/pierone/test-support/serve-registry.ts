/**
 * A Pier One in a process of its own, for the bounded-memory test: started with a small
 * `--max-old-space-size`, it prints `{url, token}` as one JSON line, then answers each `report`
 * line on stdin with the peak memory it saw, and exits on `exit`.
 */
import { createInterface } from 'node:readline';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { pieroneMigrations } from '../migrations.js';
import { startTestRegistry } from './registry-harness.js';

const { database, drop } = await openTestDatabase('pglite', [...KERNEL_MIGRATIONS, pieroneMigrations]);
const registry = await startTestRegistry(database);
const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sample = () => {
  const m = process.memoryUsage();
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.external = Math.max(peak.external, m.external);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
};
sample();
const baseline = { ...peak };
const timer = setInterval(sample, 20);
process.stdout.write(`${JSON.stringify({ url: registry.url, token: registry.tokens.alice })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'report') process.stdout.write(`${JSON.stringify({ peak, baseline })}\n`);
  if (line === 'exit') break;
}
clearInterval(timer);
await registry.close();
await drop();
process.exit(0);
