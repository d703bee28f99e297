import { defineConfig } from 'vitest/config';

/**
 * `npm run test:heavy`: tests too slow or too large for every run (the 2 GiB Pier One streaming
 * test takes minutes of CPU and disk). They live in bench/heavy/, outside the default run.
 */
export default defineConfig({
  test: {
    include: ['bench/heavy/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
