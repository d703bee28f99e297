import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../auth/token-verifier.js';
import { createLogger } from '../logger.js';
import { isPostgresAvailable, openTestDatabase } from '../test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../test-support/service-context.js';
import { DEFAULT_IDLE_TIMEOUT_MS, HEALTH_DOWN } from './create-http-app.js';
import { createServiceApp } from './create-service-app.js';

describe('createServiceApp', () => {
  for (const kind of ['pglite', 'postgres'] as const) {
    it(`answers /health DOWN with a fixed body when the database is gone, and logs why [${kind}]`, async (test) => {
      if (kind === 'postgres' && !(await isPostgresAvailable())) test.skip();
      const { database } = await openTestDatabase(kind, KERNEL_MIGRATIONS);
      const sink = new PassThrough();
      let logged = '';
      sink.on('data', (chunk: Buffer) => (logged += chunk.toString()));
      const ctx = {
        ...createTestContext(database, new TokenVerifier({ issuers: [] })),
        logger: createLogger({ level: 'info', destination: sink }),
      };
      const app = await createServiceApp(ctx, { service: 'probe', title: 'Probe API' });
      try {
        const up = await app.inject('/health');
        expect(up.statusCode).toBe(200);
        expect(up.json()).toEqual({ status: 'UP' });

        // The ping now fails with the driver's own text, which must not reach the answer.
        await database.destroy();
        const down = await app.inject('/health');
        expect(down.statusCode).toBe(503);
        expect(down.json()).toEqual(HEALTH_DOWN);
        const line = logged.split('\n').find((l) => l.includes('health check failed'));
        expect(line).toBeDefined();
        const entry = JSON.parse(line ?? '{}') as {
          level: number;
          service: string;
          err?: { message?: string };
        };
        expect(entry.level).toBe(50);
        expect(entry.service).toBe('probe');
        // The cause is in the log, and it is not the public text.
        expect(entry.err?.message).toBeTruthy();
        expect(down.body).not.toContain(entry.err?.message ?? '');
      } finally {
        await app.close();
      }
    });
  }

  it('answers /health DOWN without the text a module check throws', async () => {
    const { database } = await openTestDatabase('pglite', KERNEL_MIGRATIONS);
    try {
      const ctx = createTestContext(database, new TokenVerifier({ issuers: [] }));
      const app = await createServiceApp(ctx, {
        service: 'probe',
        title: 'Probe API',
        healthCheck: async () => {
          throw new Error('connect ECONNREFUSED 10.1.2.3:5432 as user stups_admin');
        },
      });
      const down = await app.inject('/health');
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual(HEALTH_DOWN);
      expect(down.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|stups_admin/);
      await app.close();
    } finally {
      await database.destroy();
    }
  });

  it("closes idle connections after the platform's idle bound, or the default without one", async () => {
    const { database } = await openTestDatabase('pglite', KERNEL_MIGRATIONS);
    try {
      const ctx = createTestContext(database, new TokenVerifier({ issuers: [] }));
      const configured = await createServiceApp(
        { ...ctx, idleTimeoutMs: 12_000 },
        { service: 'probe', title: 'Probe API' },
      );
      const unset = await createServiceApp(ctx, { service: 'probe', title: 'Probe API' });
      const overridden = await createServiceApp(
        { ...ctx, idleTimeoutMs: 12_000 },
        { service: 'probe', title: 'Probe API', idleTimeoutMs: 3_000 },
      );
      // Fastify hands the bound to Node's server as its socket timeout.
      expect(configured.server.timeout).toBe(12_000);
      expect(unset.server.timeout).toBe(DEFAULT_IDLE_TIMEOUT_MS);
      expect(overridden.server.timeout).toBe(3_000);
      await Promise.all([configured.close(), unset.close(), overridden.close()]);
    } finally {
      await database.destroy();
    }
  });
});
