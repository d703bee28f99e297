import { describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../metrics.js';
import { Cache } from './cache.js';

describe('Cache', () => {
  it('keeps at most max entries, evicting the least recently used', () => {
    const cache = new Cache<string, number>({ name: 'bounded', max: 3 });
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i);
    expect(cache.get('a')).toBe(0); // a is now the most recently used
    cache.set('d', 3);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([0, 2, 3]);
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect(cache.get('k999')).toBe(999);
    expect(cache.get('k996')).toBeUndefined();
  });

  it('forgets the entries whose keys pass a test, including a load in flight for one of them', async () => {
    const releases: Array<(value: number) => void> = [];
    const cache = new Cache<string, number>({
      name: 'prefix',
      max: 10,
      load: () => new Promise<number>((resolve) => releases.push(resolve)),
    });
    cache.set('employees\njdoe\nA', 1);
    cache.set('employees\njdoe\nB', 2);
    cache.set('employees\njdoe2\nA', 3);
    const inFlight = cache.fetch('employees\njdoe\nC', undefined);
    cache.deleteWhere((key) => key.startsWith('employees\njdoe\n'));
    // The load under way read before the change: its answer is neither kept nor returned. The
    // fetch asks again instead of failing its caller (a replica's request must not fail because
    // another replica changed something meanwhile).
    releases[0]?.(4);
    await vi.waitFor(() => expect(releases).toHaveLength(2));
    releases[1]?.(5);
    await expect(inFlight).resolves.toBe(5);
    expect(cache.peek('employees\njdoe\nA')).toBeUndefined();
    expect(cache.peek('employees\njdoe\nB')).toBeUndefined();
    expect(cache.peek('employees\njdoe\nC')).toBe(5);
    expect(cache.peek('employees\njdoe2\nA')).toBe(3);
  });

  it('answers a fetch whose load a clear() aborted with a new load, and gives up after a few', async () => {
    let loads = 0;
    const releases: Array<(value: number) => void> = [];
    const cache = new Cache<string, number>({
      name: 'cleared',
      max: 10,
      load: () => {
        loads += 1;
        return new Promise<number>((resolve) => releases.push(resolve));
      },
    });
    const answered = cache.fetch('k', undefined);
    cache.clear();
    await vi.waitFor(() => expect(loads).toBe(2));
    releases[1]?.(7);
    await expect(answered).resolves.toBe(7);

    // Invalidated again and again while loading: the fetch fails after five loads, not never.
    const before = loads;
    const storm = cache.fetch('s', undefined);
    const failed = expect(storm).rejects.toThrow();
    for (let load = 1; load <= 5; load++) {
      await vi.waitFor(() => expect(loads).toBe(before + load));
      cache.delete('s');
    }
    await failed;
    expect(loads).toBe(before + 5);
  });

  it('expires entries by the injected clock: fresh while age ≤ TTL, and per entry', () => {
    let now = 0;
    const cache = new Cache<string, string>({ name: 'ttl', max: 10, ttlMs: 1000, now: () => now });
    cache.set('a', 'A');
    cache.set('short', 'S', { ttlMs: 10 });
    now = 10;
    expect(cache.get('short')).toBe('S');
    now = 11;
    expect(cache.get('short')).toBeUndefined();
    now = 1000;
    expect(cache.get('a')).toBe('A');
    now = 1001;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.peek('a')).toBeUndefined();
  });

  it('forgets everything when the injected clock goes backwards', () => {
    let now = 5000;
    const cache = new Cache<string, string>({ name: 'clock', max: 10, ttlMs: 1000, now: () => now });
    cache.set('a', 'A');
    now = 4000;
    expect(cache.get('a')).toBeUndefined();
  });

  it('loads once for concurrent fetches, with the caller’s context, and not again while fresh', async () => {
    let now = 0;
    const loads: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cache = new Cache<string, string, { suffix: string }>({
      name: 'dedup',
      max: 10,
      ttlMs: 100,
      now: () => now,
      load: async (key, context) => {
        loads.push(key);
        await gate;
        return key + context.suffix;
      },
    });
    const pending = [cache.fetch('a', { suffix: '!' }), cache.fetch('a', { suffix: '?' })];
    release();
    expect(await Promise.all(pending)).toEqual(['a!', 'a!']);
    expect(await cache.fetch('a', { suffix: '?' })).toBe('a!');
    expect(loads).toEqual(['a']);
    now = 101;
    expect(await cache.fetch('a', { suffix: '?' })).toBe('a?');
    expect(loads).toEqual(['a', 'a']);
  });

  it('does not remember a failed load', async () => {
    let fail = true;
    const cache = new Cache<string, string>({
      name: 'failing',
      max: 10,
      load: async (key) => {
        if (fail) throw new Error('directory down');
        return key.toUpperCase();
      },
    });
    await expect(cache.fetch('a', undefined)).rejects.toThrow('directory down');
    fail = false;
    expect(await cache.fetch('a', undefined)).toBe('A');
  });

  it('invalidates by delete and clear', async () => {
    let version = 0;
    const cache = new Cache<string, number>({ name: 'invalidate', max: 10, load: async () => ++version });
    expect(await cache.fetch('a', undefined)).toBe(1);
    expect(await cache.fetch('a', undefined)).toBe(1);
    cache.delete('a');
    expect(await cache.fetch('a', undefined)).toBe(2);
    cache.set('b', 7);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('b')).toBeUndefined();
  });

  it('refuses a fetch without a load function and a bound that is not a positive integer', async () => {
    await expect(new Cache<string, string>({ name: 'plain', max: 1 }).fetch('a', undefined)).rejects.toThrow(
      'cache plain has no load function',
    );
    expect(() => new Cache<string, string>({ name: 'zero', max: 0 })).toThrow(
      'max must be a positive integer',
    );
  });

  it('counts hits and misses in cache_lookups_total', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const cache = new Cache<string, string>({
      name: 'counted',
      max: 10,
      lookups: metrics.cacheLookups,
      load: async (key) => key,
    });
    cache.get('x');
    await cache.fetch('y', undefined);
    await cache.fetch('y', undefined);
    cache.get('y');
    const text = await metrics.registry.metrics();
    expect(text).toContain('cache_lookups_total{cache="counted",result="miss"} 2');
    expect(text).toContain('cache_lookups_total{cache="counted",result="hit"} 2');
  });
});
