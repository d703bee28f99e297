import { expect, it } from 'vitest';
import { describeEachDatabase } from '../test-support/databases.js';
import { notificationChannel } from './change-feed.js';

/** Resolves with the next key `channel` delivers on `feed` (undefined for "drop everything"). */
function nextChange(
  feed: { subscribe(channel: string, listener: (key: string | undefined) => void): () => void },
  channel: string,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const stop = feed.subscribe(channel, (key) => {
      stop();
      resolve(key);
    });
  });
}

describeEachDatabase('change feed', [], (db) => {
  it('delivers a notification on commit only, never one of a rolled-back transaction', async () => {
    const feed = db().changes;
    await feed.whenListening();
    const seen: Array<string | undefined> = [];
    const stop = feed.subscribe('test.commit', (key) => seen.push(key));
    await db()
      .kysely()
      .transaction()
      .execute(async (trx) => {
        await feed.notify(trx, 'test.commit', 'rolled-back');
        throw new Error('roll back');
      })
      .catch(() => {});
    const committed = nextChange(feed, 'test.commit');
    await db()
      .kysely()
      .transaction()
      .execute(async (trx) => {
        await feed.notify(trx, 'test.commit', 'kept');
        // Not delivered while the transaction is open (PostgreSQL sends it at commit).
        expect(seen).toEqual([]);
      });
    // Notifications of one session arrive in commit order: had the rolled-back one been sent,
    // it would be here first.
    expect(await committed).toBe('kept');
    expect(seen).toEqual(['kept']);
    stop();
  });

  it('delivers a change without a key as "drop everything", and only to its channel', async () => {
    const feed = db().changes;
    const other: Array<string | undefined> = [];
    const stop = feed.subscribe('test.other', (key) => other.push(key));
    const whole = nextChange(feed, 'test.whole');
    await feed.notify(db().kysely(), 'test.whole');
    expect(await whole).toBeUndefined();
    expect(other).toEqual([]);
    stop();
  });

  it('names one channel per schema, within PostgreSQL identifier length', () => {
    expect(notificationChannel('public')).toBe('stups_public');
    const long = notificationChannel('s'.repeat(63));
    expect(long).toMatch(/^stups_[0-9a-f]{32}$/);
  });
});
