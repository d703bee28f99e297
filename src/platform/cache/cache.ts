import { LRUCache } from 'lru-cache';
import type { CacheLookupCounter, CacheLookupTally } from './lookup-counter.js';

/** The `cache_lookups_total` counter of a process (see `createMetrics`). */
export type CacheLookups = CacheLookupCounter;

export interface CacheOptions<K, V, C = undefined> {
  /** Names the cache in metrics, e.g. `token-verifier`. */
  name: string;
  /** Entries kept at most; the least recently used one goes first. */
  max: number;
  /**
   * Default time to live of an entry: fresh while its age is at most this (lru-cache's rule), the
   * age counted from when the value was stored. Unset: entries live until evicted or deleted.
   */
  ttlMs?: number | undefined;
  /**
   * Clock of the TTLs. Default: the monotonic `performance.now()`. An injected clock (tests, or a
   * service's own clock) may jump backwards: then every entry counts as stale, because its age
   * can no longer be told (a wall clock set back an hour must not keep answers an hour longer).
   */
  now?: (() => number) | undefined;
  /**
   * Loads a missing or stale entry for `fetch`, given the context that fetch was called with.
   * Concurrent fetches of one key share one call; a rejected call is not remembered (the next
   * fetch asks again).
   */
  load?: ((key: K, context: C) => Promise<V>) | undefined;
  /** Hit and miss counts go here when set. */
  lookups?: CacheLookups | undefined;
}

/** Loads one `fetch` starts at most when invalidations keep aborting them. */
const MAX_LOADS_PER_FETCH = 5;

/**
 * A bounded in-memory cache with TTLs and de-duplicated loading: the one way services cache
 * answers (principal status, verified tokens, revocations …), over `lru-cache`, so that the
 * bound, the expiry and the "ask once while asking" rule are the same everywhere.
 */
export class Cache<K extends NonNullable<unknown>, V extends NonNullable<unknown>, C = undefined> {
  readonly name: string;
  // The fetch context is the load call itself, so `load` sees its typed context.
  readonly #lru: LRUCache<K, V, { run: () => Promise<V> }>;
  readonly #load: ((key: K, context: C) => Promise<V>) | undefined;
  readonly #now: (() => number) | undefined;
  readonly #lookups: CacheLookupTally | undefined;
  /** Keys being loaded: lru-cache's key iteration leaves them out, invalidation must not. */
  readonly #loading = new Map<K, number>();
  #lastNow = Number.NEGATIVE_INFINITY;

  constructor(options: CacheOptions<K, V, C>) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new RangeError(`cache ${options.name}: max must be a positive integer, not ${options.max}`);
    }
    this.name = options.name;
    this.#now = options.now;
    this.#lookups = options.lookups?.of(options.name);
    this.#load = options.load;
    const injected = options.now;
    this.#lru = new LRUCache<K, V, { run: () => Promise<V> }>({
      max: options.max,
      ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs }),
      // lru-cache reads a start time of 0 as "no TTL": shift an injected clock that starts at 0.
      // No time-reading debounce either: each lookup sees the clock as it is.
      ...(injected ? { perf: { now: () => injected() + 1 }, ttlResolution: 0 } : {}),
      fetchMethod: (_key, _stale, { context }) => context.run(),
    });
  }

  /** The entry, if present and fresh. */
  get(key: K): V | undefined {
    this.#checkClock();
    const value = this.#lru.get(key);
    this.#count(value !== undefined);
    return value;
  }

  /** The entry, if present and fresh, without counting a lookup or making it recently used. */
  peek(key: K): V | undefined {
    this.#checkClock();
    return this.#lru.peek(key);
  }

  /** The entry, loaded through `load` (given `context`) when missing or stale. */
  async fetch(key: K, context: C): Promise<V> {
    const load = this.#load;
    if (!load) throw new Error(`cache ${this.name} has no load function`);
    this.#checkClock();
    const run = () => {
      this.#loading.set(key, (this.#loading.get(key) ?? 0) + 1);
      return load(key, context).finally(() => {
        const left = (this.#loading.get(key) ?? 1) - 1;
        if (left === 0) this.#loading.delete(key);
        else this.#loading.set(key, left);
      });
    };
    let value: V | undefined;
    for (let attempt = 1; ; attempt++) {
      const status: LRUCache.Status<K, V> = {};
      try {
        value = await this.#lru.fetch(key, { status, context: { run } });
      } catch (error) {
        // An invalidation (delete, deleteWhere, clear) while loading aborts the load: what it
        // read may predate the change. The caller asked for the value, not for the race: ask
        // again, a few times at most so that a storm of invalidations cannot keep it waiting.
        if (status.fetchAborted && attempt < MAX_LOADS_PER_FETCH) continue;
        throw error;
      }
      // A fetch joining one in flight did not ask either: it counts as a hit.
      this.#count(status.fetch === 'hit' || status.fetch === 'inflight');
      break;
    }
    if (value === undefined) throw new Error(`cache ${this.name}: load returned nothing for a key`);
    return value;
  }

  /** Stores an entry; `ttlMs` overrides the cache's default for this one. */
  set(key: K, value: V, options: { ttlMs?: number } = {}): void {
    this.#checkClock();
    this.#lru.set(key, value, options.ttlMs === undefined ? {} : { ttl: options.ttlMs });
  }

  /** Forgets one entry (invalidation), including a load in flight for it. */
  delete(key: K): void {
    this.#lru.delete(key);
  }

  /**
   * Forgets every entry whose key passes `test` (invalidation by a prefix, a part of the key …),
   * including loads in flight for such keys: what they read may predate the change.
   */
  deleteWhere(test: (key: K) => boolean): void {
    for (const key of [...this.#lru.keys(), ...this.#loading.keys()]) if (test(key)) this.#lru.delete(key);
  }

  /** Forgets every entry. */
  clear(): void {
    this.#lru.clear();
  }

  get size(): number {
    return this.#lru.size;
  }

  #checkClock(): void {
    if (!this.#now) return;
    const now = this.#now();
    if (now < this.#lastNow) this.#lru.clear();
    this.#lastNow = now;
  }

  #count(hit: boolean): void {
    this.#lookups?.count(hit);
  }
}
