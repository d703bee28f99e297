import { HEALTH_DOWN } from '../platform/http/create-http-app.js';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { call } from './test-support/http.js';
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

describeEachDatabase('Pier One health', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
  });
  afterAll(() => reg?.close());

  it('is UP while its tables answer', async () => {
    const health = await call(reg, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'UP' });
  });

  it('is DOWN without telling strangers why', async () => {
    // This suite's database is its own: losing a table here is what a broken deployment looks like.
    await sql`drop table pierone_tags`.execute(getDatabase().kysely());
    const health = await call(reg, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.json).toEqual(HEALTH_DOWN);
  });
});
