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
export class SearchCache<T> {
  readonly #entries = new Map<string, { value: T; expires: number }>();
  readonly #feed: ChangeFeed;
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  #generation = 0;

  constructor(feed: ChangeFeed, options: { maxEntries: number; ttlMs: number }) {
    this.#feed = feed;
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    feed.subscribe(APPLICATIONS_CHANNEL, () => this.clear());
  }

  /** Drops every entry (a write committed); searches running now will not store their answer. */
  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /** The cached answer for `key`, or the one `compute` gives (stored when it is safe to). */
  async get(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.#maxEntries === 0 || !this.#listening()) return compute();
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) {
      // Re-insert: Map keeps insertion order, so the first key is the least recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.value;
    }
    const generation = this.#generation;
    const value = await compute();
    // The feed may have gone down during the query: then a write may have gone unannounced.
    if (generation === this.#generation && this.#listening()) {
      this.#entries.delete(key);
      this.#entries.set(key, { value, expires: now + this.#ttlMs });
      if (this.#entries.size > this.#maxEntries) {
        const oldest = this.#entries.keys().next();
        if (!oldest.done) this.#entries.delete(oldest.value);
      }
    }
    return value;
  }

  #listening(): boolean {
    return this.#feed.listening;
  }
}
