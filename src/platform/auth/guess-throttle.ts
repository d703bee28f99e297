import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';

interface GuessTables {
  platform_guess_failures: { throttle: string; key: string; failed_at: Date };
}

export interface GuessLimits {
  /** Failures for one account from one source address before that pair is refused. */
  perAccountAndSource: number;
  /** Failures from one source address, whatever the accounts, before the source is refused. */
  perSource: number;
  /**
   * Failures for one account from all sources before the account is refused. Set well above
   * `perAccountAndSource`: locking someone out then takes many addresses, not one script.
   */
  perAccount: number;
  windowMs: number;
}

/** Expired rows a failure deletes on its way (any key of its throttle): purging keeps up with writing. */
const PURGE_BATCH = 100;

/**
 * Slows down guessing of passwords and secrets. A guess is refused when its account from its
 * source, its source, or its account overall failed too often lately (a sliding window). Callers
 * must answer a refusal exactly like a wrong guess (and spend the same time), so the refusal
 * confirms nothing about the account.
 *
 * The failures live in the database (`platform_guess_failures`), so replicas count together: N
 * replicas give an attacker `maxFailures` guesses per window, not N × `maxFailures`. Each failure
 * is one statement (its three rows, plus a batch of expired rows of the throttle deleted on the
 * way); each decision is one read. Guesses checked concurrently before either failure is written
 * may both be looked at: the limit is exceeded by at most the number of guesses in flight.
 */
export class GuessThrottle {
  readonly #db: Kysely<GuessTables>;

  constructor(
    database: Database,
    /** Names the throttle in the table, e.g. `token-service.logins`: throttles do not share counts. */
    private readonly name: string,
    private readonly limits: GuessLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.#db = database.kysely<GuessTables>();
  }

  /** Milliseconds until a guess for `account` from `source` is looked at again; 0 means now. */
  async retryAfter(account: string, source: string): Promise<number> {
    const checks = new Map([
      [pairKey(account, source), this.limits.perAccountAndSource],
      [`s:${source}`, this.limits.perSource],
      [`a:${account}`, this.limits.perAccount],
    ]);
    const now = this.now();
    const keep = Math.max(...checks.values());
    // The newest `keep` failures per key within the window; the limit-th newest decides.
    const ranked = this.#db
      .selectFrom('platform_guess_failures')
      .select([
        'key',
        'failed_at',
        sql<number>`row_number() over (partition by key order by failed_at desc)`.as('rank'),
      ])
      .where('throttle', '=', this.name)
      .where('key', 'in', [...checks.keys()])
      .where('failed_at', '>', new Date(now - this.limits.windowMs));
    const rows = await this.#db
      .selectFrom(ranked.as('ranked'))
      .select(['key', 'failed_at', 'rank'])
      .where('rank', '<=', keep)
      .execute();
    let wait = 0;
    for (const row of rows) {
      if (Number(row.rank) !== checks.get(row.key)) continue;
      wait = Math.max(wait, new Date(row.failed_at).getTime() + this.limits.windowMs - now);
    }
    return wait;
  }

  /** Counts a wrong guess against the pair, the source and the account: one statement. */
  async recordFailure(account: string, source: string): Promise<void> {
    const at = new Date(this.now());
    const expired = new Date(at.getTime() - this.limits.windowMs);
    await sql`
      with purged as (
        delete from platform_guess_failures where ctid = any(array(
          select ctid from platform_guess_failures
          where throttle = ${this.name} and failed_at <= ${expired}
          limit ${PURGE_BATCH} for update skip locked))
      )
      insert into platform_guess_failures (throttle, key, failed_at) values
        (${this.name}, ${pairKey(account, source)}, ${at}),
        (${this.name}, ${`s:${source}`}, ${at}),
        (${this.name}, ${`a:${account}`}, ${at})`.execute(this.#db);
  }

  /** A right guess clears its pair; the source's and account's other failures still count. */
  async recordSuccess(account: string, source: string): Promise<void> {
    await this.#db
      .deleteFrom('platform_guess_failures')
      .where('throttle', '=', this.name)
      .where('key', '=', pairKey(account, source))
      .execute();
  }
}

function pairKey(account: string, source: string): string {
  return `p:${account}\n${source}`;
}
