import { describe, expect, it } from 'vitest';
import { RETRY_BACKOFF_MS, RetryBackoff } from './ingestion.js';

describe('retry back-off of failed CloudTrail files', () => {
  it('waits 1, 2, 4 … minutes after each failure, at most an hour, and forgets a file that succeeded', () => {
    let now = 0;
    const backoff = new RetryBackoff(() => now);
    expect(backoff.waiting('k')).toBe(false);
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      backoff.failed('k');
      const start = now;
      while (backoff.waiting('k')) now += 1000;
      waits.push(now - start);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60].map((m) => m * 60_000));
    expect(RETRY_BACKOFF_MS.max).toBe(3_600_000);
    backoff.succeeded('k');
    backoff.failed('k');
    now += RETRY_BACKOFF_MS.first - 1;
    expect(backoff.waiting('k')).toBe(true);
    expect(backoff.waiting('other')).toBe(false);
  });
});
