import { Counter, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CacheLookupCounter } from './lookup-counter.js';

describe('CacheLookupCounter', () => {
  it('prints what a prom-client counter with an inc per lookup prints, across scrapes and resets', async () => {
    const ours = new Registry<RegistryContentType>();
    const reference = new Registry<RegistryContentType>();
    const counter = new CacheLookupCounter([ours]);
    const promCounter = new Counter({
      name: 'cache_lookups_total',
      help: 'Lookups of in-memory caches by cache name and result (hit or miss)',
      labelNames: ['cache', 'result'] as const,
      registers: [reference],
    });
    const caches = ['token-verifier', 'principal-status', 'revocations'].map((name) => ({
      name,
      tally: counter.of(name),
    }));
    const lookup = (i: number, hit: boolean) => {
      const cache = caches[i]!;
      cache.tally.count(hit);
      promCounter.inc({ cache: cache.name, result: hit ? 'hit' : 'miss' });
    };
    const same = async () => {
      expect(await ours.metrics()).toBe(await reference.metrics());
      expect(await ours.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
    };

    await same();
    lookup(1, false);
    lookup(1, true);
    lookup(1, true);
    lookup(0, true);
    await same();
    expect(await ours.metrics()).toContain('cache_lookups_total{cache="principal-status",result="hit"} 2');
    lookup(2, true);
    lookup(0, false);
    lookup(1, true);
    await same();
    await same();
    lookup(2, false);
    ours.resetMetrics();
    reference.resetMetrics();
    await same();
    lookup(0, true);
    lookup(2, false);
    lookup(2, false);
    await same();
  });
});
