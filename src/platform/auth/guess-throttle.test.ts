import { describe, expect, it } from 'vitest';
import { FailureWindow, GuessThrottle } from './guess-throttle.js';

describe('FailureWindow', () => {
  it('refuses after maxFailures within the window until the oldest failure leaves it', () => {
    let now = 0;
    const window = new FailureWindow(3, 60_000, () => now);
    for (const t of [0, 10_000, 20_000]) {
      now = t;
      expect(window.retryAfter('a')).toBe(0);
      window.recordFailure('a');
    }
    now = 30_000;
    expect(window.retryAfter('a')).toBe(30_000);
    expect(window.retryAfter('b')).toBe(0);
    now = 60_001;
    expect(window.retryAfter('a')).toBe(0);
    window.recordFailure('a');
    expect(window.retryAfter('a')).toBeGreaterThan(0);
    window.forget('a');
    expect(window.retryAfter('a')).toBe(0);
  });

  it('forgets the longest-untouched key when full', () => {
    const window = new FailureWindow(1, 60_000, () => 0, 2);
    window.recordFailure('a');
    window.recordFailure('b');
    window.recordFailure('c');
    expect([window.retryAfter('a'), window.retryAfter('b'), window.retryAfter('c')]).toEqual([
      0, 60_000, 60_000,
    ]);
  });
});

describe('GuessThrottle', () => {
  const limits = { perAccountAndSource: 2, perSource: 3, perAccount: 4, windowMs: 60_000 };

  it('refuses an account from one source without locking it for other sources', () => {
    const throttle = new GuessThrottle(limits, () => 0);
    throttle.recordFailure('jdoe', '10.0.0.1');
    throttle.recordFailure('jdoe', '10.0.0.1');
    expect(throttle.retryAfter('jdoe', '10.0.0.1')).toBe(60_000);
    expect(throttle.retryAfter('jdoe', '10.0.0.2')).toBe(0);
    expect(throttle.retryAfter('other', '10.0.0.1')).toBe(0);
  });

  it('refuses a source that guesses many accounts, and an account guessed from many sources', () => {
    const throttle = new GuessThrottle(limits, () => 0);
    for (const account of ['a', 'b', 'c']) throttle.recordFailure(account, '10.0.0.1');
    expect(throttle.retryAfter('d', '10.0.0.1')).toBe(60_000);
    expect(throttle.retryAfter('d', '10.0.0.2')).toBe(0);
    for (const source of ['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4'])
      throttle.recordFailure('x', source);
    expect(throttle.retryAfter('x', '10.0.1.9')).toBe(60_000);
  });

  it('clears only the pair on success', () => {
    const throttle = new GuessThrottle(limits, () => 0);
    throttle.recordFailure('jdoe', '10.0.0.1');
    throttle.recordSuccess('jdoe', '10.0.0.1');
    throttle.recordFailure('jdoe', '10.0.0.1');
    expect(throttle.retryAfter('jdoe', '10.0.0.1')).toBe(0);
  });
});
