import { expect, it } from 'vitest';
import { createServiceApp } from '../http/create-service-app.js';
import { describeEachDatabase } from '../test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../test-support/service-context.js';
import { createTestIssuer } from '../test-support/test-issuer.js';
import { registerAuditRoutes } from './routes.js';

describeEachDatabase('GET /audit-events', KERNEL_MIGRATIONS, (getDatabase) => {
  async function start() {
    const issuer = await createTestIssuer();
    const ctx = createTestContext(getDatabase(), issuer.verifier);
    const app = await createServiceApp(ctx, { service: 'audit-test', title: 'Audit test' });
    registerAuditRoutes(app, {
      auditLog: ctx.auditLog,
      verifier: ctx.verifier,
      adminPolicy: ctx.adminPolicy,
    });
    await app.ready();
    return { app, headers: { authorization: `Bearer ${await issuer.token({ uid: 'admin' })}` } };
  }

  it('refuses a cursor beyond the bigint range as invalid input instead of failing in the database', async () => {
    const { app, headers } = await start();
    try {
      for (const before of ['1'.repeat(26), '9223372036854775808', 'x', '-1']) {
        const response = await app.inject({ url: `/audit-events?before=${before}`, headers });
        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json()).toMatchObject({ code: 'INPUT_INVALID' });
        expect(JSON.stringify(response.json().errors)).toContain('must be an event id');
      }
      const largest = await app.inject({ url: '/audit-events?before=9223372036854775807', headers });
      expect(largest.statusCode).toBe(200);
      expect(largest.json()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
