import { Counter, type Registry, type RegistryContentType } from 'prom-client';

/** Lookups of one (cache, result) not yet added to the counter. */
interface Tally {
  labels: { cache: string; result: 'hit' | 'miss' };
  pending: number;
  /** Whether it is in `tallies` (since the start or the last reset). */
  listed: boolean;
}

/** The hit and miss tallies of one cache; `Cache` keeps its own and counts into it. */
export interface CacheLookupTally {
  count(hit: boolean): void;
}

/**
 * `cache_lookups_total` by cache and result. A cache lookup happens on nearly every request
 * (tokeninfo, token verification): prom-client's labelled `inc` validates the labels and builds
 * a hash string each time, so lookups are tallied in plain numbers and added to the prom-client
 * counter when it is read (a scrape runs its `collect`). The counter's series are added in the
 * order their first lookup happened, as an `inc` per lookup would, so `/metrics` prints the same.
 */
export class CacheLookupCounter {
  readonly #counter: Counter<'cache' | 'result'>;
  /** Every tally counted since the start or the last reset, in the order first counted. */
  #tallies: Tally[] = [];

  constructor(registers: Array<Registry<RegistryContentType>>) {
    const flush = () => this.#flush();
    const forget = () => this.#forget();
    this.#counter = new (class extends Counter<'cache' | 'result'> {
      // A reset drops what was counted before it, the tallies not yet added included.
      override reset(): void {
        forget();
        super.reset();
      }
    })({
      name: 'cache_lookups_total',
      help: 'Lookups of in-memory caches by cache name and result (hit or miss)',
      labelNames: ['cache', 'result'] as const,
      registers,
      collect: flush,
    });
  }

  /** The tally of the cache `name`; a cache asks once, then counts into it. */
  of(name: string): CacheLookupTally {
    const tally = (result: 'hit' | 'miss'): Tally => ({
      labels: { cache: name, result },
      pending: 0,
      listed: false,
    });
    const hit = tally('hit');
    const miss = tally('miss');
    return {
      count: (found) => {
        const counted = found ? hit : miss;
        if (!counted.listed) {
          counted.listed = true;
          this.#tallies.push(counted);
        }
        counted.pending += 1;
      },
    };
  }

  #flush(): void {
    for (const tally of this.#tallies) {
      if (tally.pending === 0) continue;
      this.#counter.inc(tally.labels, tally.pending);
      tally.pending = 0;
    }
  }

  #forget(): void {
    for (const tally of this.#tallies) {
      tally.pending = 0;
      tally.listed = false;
    }
    this.#tallies = [];
  }
}
