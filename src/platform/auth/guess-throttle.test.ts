import { expect, it } from 'vitest';
import { describeEachDatabase } from '../test-support/databases.js';
import { GuessThrottle } from './guess-throttle.js';
import { authMigrations } from './migrations.js';

const limits = { perAccountAndSource: 2, perSource: 3, perAccount: 4, windowMs: 60_000 };

describeEachDatabase('GuessThrottle', [{ component: 'auth', migrations: authMigrations }], (db) => {
  let n = 0;
  /** A throttle of its own name, so tests sharing the database do not share counts. */
  const throttle = (now: () => number, custom = limits) => new GuessThrottle(db(), `t${++n}`, custom, now);

  it('refuses after maxFailures within the window until the oldest failure leaves it', async () => {
    let now = 1_000_000;
    const t = throttle(() => now, { ...limits, perAccountAndSource: 3, perSource: 9, perAccount: 9 });
    for (const at of [0, 10_000, 20_000]) {
      now = 1_000_000 + at;
      expect(await t.retryAfter('a', 's')).toBe(0);
      await t.recordFailure('a', 's');
    }
    now = 1_030_000;
    expect(await t.retryAfter('a', 's')).toBe(30_000);
    expect(await t.retryAfter('b', 's')).toBe(0);
    now = 1_060_001;
    expect(await t.retryAfter('a', 's')).toBe(0);
  });

  it('refuses an account from one source without locking it for other sources', async () => {
    const t = throttle(() => 1_000_000);
    await t.recordFailure('jdoe', '10.0.0.1');
    await t.recordFailure('jdoe', '10.0.0.1');
    expect(await t.retryAfter('jdoe', '10.0.0.1')).toBe(60_000);
    expect(await t.retryAfter('jdoe', '10.0.0.2')).toBe(0);
    expect(await t.retryAfter('other', '10.0.0.1')).toBe(0);
  });

  it('refuses a source that guesses many accounts, and an account guessed from many sources', async () => {
    const t = throttle(() => 1_000_000);
    for (const account of ['a', 'b', 'c']) await t.recordFailure(account, '10.0.0.1');
    expect(await t.retryAfter('d', '10.0.0.1')).toBe(60_000);
    expect(await t.retryAfter('d', '10.0.0.2')).toBe(0);
    for (const source of ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4']) await t.recordFailure('x', source);
    expect(await t.retryAfter('x', '10.0.1.9')).toBe(60_000);
  });

  it('clears only the pair on success', async () => {
    const t = throttle(() => 1_000_000);
    await t.recordFailure('jdoe', '10.0.0.1');
    await t.recordSuccess('jdoe', '10.0.0.1');
    await t.recordFailure('jdoe', '10.0.0.1');
    expect(await t.retryAfter('jdoe', '10.0.0.1')).toBe(0);
  });

  it('keeps throttles apart and purges expired failures on write', async () => {
    let now = 1_000_000;
    const a = throttle(() => now);
    const b = throttle(() => now);
    await a.recordFailure('jdoe', 's');
    await a.recordFailure('jdoe', 's');
    expect(await a.retryAfter('jdoe', 's')).toBe(60_000);
    expect(await b.retryAfter('jdoe', 's')).toBe(0);
    now += 60_000;
    await a.recordFailure('other', 's2');
    const rows = await db()
      .kysely<{ platform_guess_failures: { throttle: string; key: string } }>()
      .selectFrom('platform_guess_failures')
      .select('key')
      .where('throttle', '=', `t${n - 1}`)
      .execute();
    expect(rows.map((r) => r.key).sort()).toEqual(['a:other', 'p:other\ns2', 's:s2']);
  });
});
