import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { describeEachDatabase } from '../test-support/databases.js';
import { AuditLog } from './audit-log.js';
import { auditMigrations } from './migrations.js';

describeEachDatabase('AuditLog', [{ component: 'audit', migrations: auditMigrations }], (getDatabase) => {
  it('records events and queries them newest first with filters', async () => {
    const log = new AuditLog(getDatabase(), silentLogger());
    await log.record({
      service: 'teams',
      action: 'team.create',
      actor: { uid: 'admin', realm: 'employees' },
      target: { type: 'team', id: 'a' },
      outcome: 'success',
      details: { name: 'A' },
    });
    await log.record({
      service: 'teams',
      action: 'team.update',
      actor: { uid: 'jdoe', realm: 'employees' },
      target: { type: 'team', id: 'a' },
      outcome: 'failure',
    });
    const all = await log.query({ limit: 10 });
    expect(all.map((e) => e.action)).toEqual(['team.update', 'team.create']);
    expect(all[1]).toMatchObject({
      actor: 'admin',
      target_id: 'a',
      outcome: 'success',
      details: { name: 'A' },
    });
    expect(all[0]!.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await log.query({ actor: 'jdoe', limit: 10 })).map((e) => e.action)).toEqual(['team.update']);
    expect((await log.query({ before: all[0]!.id, limit: 10 })).map((e) => e.action)).toEqual([
      'team.create',
    ]);
  });

  it('refuses updates and deletes at the database level', async () => {
    const db = getDatabase().kysely();
    await expect(sql`update audit_events set actor = 'x'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events`.execute(db)).rejects.toThrow(/append-only/);
  });
});
