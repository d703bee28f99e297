import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { describeEachDatabase } from '../test-support/databases.js';
import { auditSafeText, auditSafeValue } from './audit-safe.js';
import { AuditLog } from './audit-log.js';
import { createAudit } from './create-audit.js';
import { auditMigrations } from './migrations.js';

const EVENTS = ['demo.thing.put', 'demo.thing.delete'] as const;

describe('auditSafeText', () => {
  it('escapes NUL and lone surrogates, and keeps proper pairs', () => {
    expect(auditSafeText('a\u0000b')).toBe('a\\u0000b');
    expect(auditSafeText('\ud800')).toBe('\\ud800');
    expect(auditSafeText('x\udc00y')).toBe('x\\udc00y');
    expect(auditSafeText('\ud83d\ude00 ok')).toBe('\ud83d\ude00 ok');
    expect(auditSafeText('\udc00\ud800')).toBe('\\udc00\\ud800');
    expect(auditSafeValue({ 'k\u0000': ['\ud800', 1, null, { deep: '\u0000' }] })).toEqual({
      'k\\u0000': ['\\ud800', 1, null, { deep: '\\u0000' }],
    });
  });
});

describeEachDatabase('createAudit', [{ component: 'audit', migrations: auditMigrations }], (getDatabase) => {
  const setUp = async () => {
    const db = getDatabase().kysely<{ demo_things: { id: string } }>();
    await sql`create table if not exists demo_things (id text primary key)`.execute(db);
    const log = new AuditLog(getDatabase(), silentLogger());
    return { db, log, audit: createAudit(log, 'demo', EVENTS) };
  };
  const insertWithEvent = (
    db: Kysely<{ demo_things: { id: string } }>,
    audit: ReturnType<typeof createAudit<'demo', (typeof EVENTS)[number]>>,
    id: string,
    details: Record<string, unknown>,
    requestId = `req-${id}`,
  ) =>
    db.transaction().execute(async (trx) => {
      await trx.insertInto('demo_things').values({ id }).execute();
      await audit(trx, {
        event: 'demo.thing.put',
        actor: { uid: 'jdoe', realm: 'employees' },
        targetId: id,
        details,
        requestId,
      });
    });

  it('stores the change and its event together, whatever text the details hold', async () => {
    const { db, log, audit } = await setUp();
    await insertWithEvent(
      db,
      audit,
      'odd-details',
      { text: 'a\u0000b\ud800', nested: { k: '\udfff' } },
      'req\u0000\ud800',
    );
    const [event] = await log.query({ targetId: 'odd-details', limit: 1 });
    expect(event).toMatchObject({
      service: 'demo',
      action: 'demo.thing.put',
      actor: 'jdoe',
      actor_realm: 'employees',
      target_type: 'thing',
      outcome: 'success',
      request_id: 'req\\u0000\\ud800',
      details: { text: 'a\\u0000b\\ud800', nested: { k: '\\udfff' } },
    });
  });

  it('rolls the change back when its event cannot be written', async () => {
    const { db, log, audit } = await setUp();
    // A BigInt cannot be JSON-encoded: the audit write throws inside the transaction.
    await expect(insertWithEvent(db, audit, 'rolled-back', { size: 1n })).rejects.toThrow(TypeError);
    expect(await db.selectFrom('demo_things').selectAll().where('id', '=', 'rolled-back').execute()).toEqual(
      [],
    );
    expect(await log.query({ targetId: 'rolled-back', limit: 1 })).toEqual([]);
  });

  it('writes standalone events (refusals) without throwing', async () => {
    const { log, audit } = await setUp();
    await audit.standalone({
      event: 'demo.thing.delete',
      actor: { uid: 'anonymous' },
      targetId: 'x',
      outcome: 'refused',
      details: { size: 1n },
      requestId: 'req-refused',
    });
    await audit.standalone({
      event: 'demo.thing.delete',
      actor: { uid: 'anonymous' },
      targetId: 'x',
      outcome: 'refused',
      details: { status: 401 },
      requestId: 'req-refused-2',
    });
    const events = await log.query({ targetId: 'x', limit: 5 });
    expect(events.map((e) => [e.request_id, e.outcome])).toEqual([['req-refused-2', 'refused']]);
  });

  it('accepts only the vocabulary it was given', () => {
    const audit = createAudit(new AuditLog(getDatabase(), silentLogger()), 'demo', EVENTS);
    expect(audit.route('demo.thing.put')).toEqual({ auditEvent: 'demo.thing.put' });
    // @ts-expect-error -- a misspelt event does not compile.
    audit.route('demo.thing.putt');
    // @ts-expect-error -- events are named `<component>.<object>.<verb>` of their own component.
    createAudit(new AuditLog(getDatabase(), silentLogger()), 'demo', ['other.thing.put']);
  });
});
