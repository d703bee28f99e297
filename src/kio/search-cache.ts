import { Cache } from '../platform/cache/cache.js';
import type { ChangeFeed } from '../platform/db/change-feed.js';

/** The change-feed channel of Kio's applications: every committed write announces itself on it. */
export const APPLICATIONS_CHANNEL = 'kio.applications';

/**
 * Answers of recent searches, by everything that decides the answer (text, filters, paging,
 * cap). A common word ranks a thousand candidates, the bulk of a search's cost, and people and
 * scripts repeat the same few searches; applications change a few times a day.
 *
 * Any write can change any search (a new match, a changed rank), so a write drops every entry,
 * on every replica, through the change feed (`notify` commits with the write). The rules that
 * keep an answer from being staler than a plain query would be:
 * - entries are served only while the feed is listening (a notification missed while it was
 *   down cannot drop anything; the feed drops everything when it reconnects);
 * - an answer is stored only if no write was announced while it was computed (a `generation`
 *   taken before the query and compared after it): its snapshot may predate that write;
 * - the writer's own process drops everything as soon as its write commits, without waiting
 *   for its notification, so a client reads its own write at once;
 * - a TTL bounds the age of an entry whatever happens.
 */
export class SearchCache<T extends NonNullable<unknown>> {
  /** The project's bounded LRU with TTLs; undefined when caching is off (0 entries). */
  readonly #entries: Cache<string, T> | undefined;
  readonly #feed: ChangeFeed;
  readonly #ttlMs: number;
  #generation = 0;

  constructor(feed: ChangeFeed, options: { maxEntries: number; ttlMs: number }) {
    this.#feed = feed;
    this.#ttlMs = options.ttlMs;
    this.#entries =
      options.maxEntries > 0
        ? new Cache({ name: 'kio-search', max: options.maxEntries, ttlMs: options.ttlMs })
        : undefined;
    feed.subscribe(APPLICATIONS_CHANNEL, () => this.clear());
  }

  /** Drops every entry (a write committed); searches running now will not store their answer. */
  clear(): void {
    this.#generation++;
    this.#entries?.clear();
  }

  /** The cached answer for `key`, or the one `compute` gives (stored when it is safe to). */
  async get(key: string, compute: () => Promise<T>): Promise<T> {
    const entries = this.#entries;
    if (!entries || !this.#listening()) return compute();
    const hit = entries.get(key);
    if (hit !== undefined) return hit;
    // Not `Cache.fetch`: a write during the query would abort and repeat it, up to a failure
    // under a stream of writes; a search answers with what it read and only skips storing it.
    const generation = this.#generation;
    const started = performance.now();
    const value = await compute();
    // The feed may have gone down during the query: then a write may have gone unannounced.
    // The answer's age counts from before the query, what it read may be that old.
    const ttlMs = Math.floor(this.#ttlMs - (performance.now() - started));
    if (generation === this.#generation && this.#listening() && ttlMs > 0) entries.set(key, value, { ttlMs });
    return value;
  }

  /** Read afresh each time: the feed can go down while a query runs. */
  #listening(): boolean {
    return this.#feed.listening;
  }
}
