import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { type QueryExecutorProvider, sql } from 'kysely';
import pg from 'pg';

/**
 * Told that entries of a channel changed: `key` names the entry (e.g. a jti, a repository), or is
 * undefined when every entry of the channel must be dropped — after a change without a key, and
 * after every (re)connect of the listening connection, when changes may have been missed.
 */
export type ChangeListener = (key: string | undefined) => void;

/** Counts of a change feed, for `/metrics`. */
export interface ChangeFeedCounters {
  /** Every notification received (one per committed `notify`). */
  notification(): void;
  /** Every reconnect of the listening connection after it was lost. */
  reconnect(): void;
}

/**
 * Cross-replica cache invalidation over PostgreSQL's LISTEN/NOTIFY: a writer calls `notify` in the
 * transaction of its write; every process of the installation (this one included) hears of it
 * once that transaction commits, and drops what it cached for that key.
 *
 * The correctness rule: a process may serve a cached answer only while its listening connection
 * is up, or until the answer's TTL ends. Notifications sent while the connection is down are lost
 * (PostgreSQL queues them only for listening sessions), so on every (re)connect — after LISTEN
 * succeeded — every subscriber is told to drop everything (`key` undefined). Entries cached before
 * the reconnect are thus gone; what is loaded after it is invalidated by later notifications. The
 * TTLs of the caches stay as the safety net for the time the connection is down.
 */
export interface ChangeFeed {
  /**
   * Announces a change of `key` (or of the whole channel) on `channel`. Run it with the writer's
   * transaction: PostgreSQL delivers a notification only when that transaction commits, and never
   * when it rolls back, so no replica drops its cache before the change is visible to its next
   * read. Outside a transaction the statement commits on its own: call it after the write then.
   */
  notify(db: QueryExecutorProvider, channel: string, key?: string): Promise<void>;
  /** Calls `listener` for every change on `channel` and on every reconnect; returns the unsubscribe. */
  subscribe(channel: string, listener: ChangeListener): () => void;
  /** Resolves once the listening connection is up (at once on PGlite). */
  whenListening(): Promise<void>;
  /** Whether changes of other processes reach this one now. */
  readonly listening: boolean;
  /** Where counts go (the runtime's Prometheus counters). */
  countInto(counters: ChangeFeedCounters): void;
  close(): Promise<void>;
}

/** PostgreSQL's limit on a NOTIFY payload is 8000 bytes; a longer key drops the whole channel. */
const MAX_PAYLOAD_BYTES = 7900;
const MAX_BACKOFF_MS = 5000;

/**
 * The physical channel of an installation: one per schema, because NOTIFY reaches every session
 * of the database, and installations (or test suites) sharing a server must not hear each other.
 */
export function notificationChannel(schema: string): string {
  const name = `stups_${schema}`;
  // Identifiers are at most 63 bytes; pg_notify refuses longer channel names.
  return name.length <= 63 ? name : `stups_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

abstract class BaseChangeFeed implements ChangeFeed {
  readonly #listeners = new Map<string, Set<ChangeListener>>();
  #counters: ChangeFeedCounters | undefined;

  constructor(protected readonly channelName: string) {}

  async notify(db: QueryExecutorProvider, channel: string, key?: string): Promise<void> {
    let payload = JSON.stringify(key === undefined ? { c: channel } : { c: channel, k: key });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) payload = JSON.stringify({ c: channel });
    await sql`select pg_notify(${this.channelName}, ${payload})`.execute(db);
  }

  subscribe(channel: string, listener: ChangeListener): () => void {
    let set = this.#listeners.get(channel);
    if (!set) this.#listeners.set(channel, (set = new Set()));
    set.add(listener);
    this.started();
    return () => {
      set.delete(listener);
    };
  }

  countInto(counters: ChangeFeedCounters): void {
    this.#counters = counters;
  }

  abstract readonly listening: boolean;
  abstract whenListening(): Promise<void>;
  abstract close(): Promise<void>;

  /** A subscriber exists: the feed must listen from now on. */
  protected started(): void {}

  protected deliver(payload: string): void {
    this.#counters?.notification();
    let change: { c?: unknown; k?: unknown };
    try {
      change = JSON.parse(payload) as { c?: unknown; k?: unknown };
    } catch {
      return;
    }
    if (typeof change.c !== 'string') return;
    const key = typeof change.k === 'string' ? change.k : undefined;
    for (const listener of this.#listeners.get(change.c) ?? []) call(listener, key);
  }

  /** The correctness rule: after a (re)connect nothing cached before it may be trusted. */
  protected dropEverything(reconnected: boolean): void {
    if (reconnected) this.#counters?.reconnect();
    for (const set of this.#listeners.values()) for (const listener of set) call(listener, undefined);
  }
}

function call(listener: ChangeListener, key: string | undefined): void {
  try {
    listener(key);
  } catch {
    // A listener only forgets cache entries; one failing must not keep the others from it.
  }
}

/**
 * PGlite is one session of one process: it listens on its own channel, and PostgreSQL delivers
 * its own notifications to it after commit, exactly as to other sessions.
 */
class PGliteChangeFeed extends BaseChangeFeed {
  readonly listening = true;
  #unlisten: (() => Promise<void>) | undefined;

  /** LISTEN runs at open, before any transaction could hold the single connection. */
  static async open(pglite: PGlite, channelName: string): Promise<PGliteChangeFeed> {
    const feed = new PGliteChangeFeed(channelName);
    feed.#unlisten = await pglite.listen(channelName, (payload) => feed.deliver(payload));
    return feed;
  }

  whenListening(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => {});
  }
}

/**
 * One dedicated `pg` client per process LISTENs (pooled connections cannot: a LISTEN belongs to its
 * session). It connects when the first subscriber appears and reconnects with exponential backoff
 * (up to 5 s) whenever the connection ends, e.g. after a failover or `pg_terminate_backend`.
 */
class PostgresChangeFeed extends BaseChangeFeed {
  #client: pg.Client | undefined;
  #running = false;
  #closed = false;
  #connectedOnce = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #waiting: Array<() => void> = [];
  listening = false;

  constructor(
    private readonly url: string,
    channelName: string,
  ) {
    super(channelName);
  }

  protected override started(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    void this.#connect();
  }

  whenListening(): Promise<void> {
    if (this.listening) return Promise.resolve();
    this.started();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'stups change feed' });
    this.#client = client;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      this.listening = false;
      if (this.#client === client) this.#client = undefined;
      void client.end().catch(() => {});
      this.#retry();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel === this.channelName && message.payload !== undefined)
        this.deliver(message.payload);
    });
    try {
      await client.connect();
      await client.query(`listen "${this.channelName}"`);
    } catch {
      onLost();
      return;
    }
    // Lost or closed while connecting: nothing to announce.
    if (this.#stale(client)) return;
    this.#failures = 0;
    this.listening = true;
    this.dropEverything(this.#connectedOnce);
    this.#connectedOnce = true;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  #stale(client: pg.Client): boolean {
    return this.#closed || this.#client !== client;
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    this.#failures++;
    const base = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.#failures, 10));
    // Jitter, so that replicas that lost the server together do not reconnect in lockstep.
    const delay = base / 2 + Math.random() * (base / 2);
    this.#timer = setTimeout(() => void this.#connect(), delay);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.listening = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

/** The change feed of an embedded PGlite database. */
export function pgliteChangeFeed(pglite: PGlite, schema: string): Promise<ChangeFeed> {
  return PGliteChangeFeed.open(pglite, notificationChannel(schema));
}

/** The change feed of an installation on a PostgreSQL server (its schema names the channel). */
export function postgresChangeFeed(url: string, schema: string): ChangeFeed {
  return new PostgresChangeFeed(url, notificationChannel(schema));
}
