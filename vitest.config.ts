import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Lighthouse and its puppeteer live in tools/lighthouse (scripts/ensure-lighthouse.sh), not in node_modules. */
const lighthouseTool = (path: string) =>
  fileURLToPath(new URL(`./tools/lighthouse/node_modules/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^lighthouse$/, replacement: lighthouseTool('lighthouse/core/index.js') },
      {
        find: /^puppeteer-core$/,
        replacement: lighthouseTool('puppeteer-core/lib/esm/puppeteer/puppeteer-core.js'),
      },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll gives up after 1 s by default: a page that settles in 1.2 s on a machine busy with
    // the other worker's browser failed a run. A poll that succeeds returns at once, so only a
    // failing one waits the longer bound.
    expect: { poll: { timeout: 10_000 } },
    // Two cores: more workers only thrash.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
