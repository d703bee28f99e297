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
    // PGlite's PostgreSQL is 9 MB of WebAssembly. By default V8 compiles it quickly (Liftoff), then
    // again with TurboFan on background threads for the hot functions, and the main thread waits
    // ~150 ms for that right after the database opens. A test file is a short-lived process that
    // runs a few thousand statements at most: the second compile never pays off, and it takes the
    // other worker's core. Liftoff only, measured: kio + teams + users + platform/db 39.7 → 28.4 s,
    // pierone + token-service 255 → 190 s (issue 23). Children started with `fork` inherit it.
    execArgv: ['--liftoff-only'],
    reporters: ['default'],
  },
});
