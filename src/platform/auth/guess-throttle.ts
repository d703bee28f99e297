/**
 * Counts failures in a sliding window per key: after `maxFailures` within `windowMs`, the key is
 * refused until its oldest counted failure leaves the window. Kept per process: with N replicas
 * an attacker gets at most N × `maxFailures` guesses per window.
 */
export class FailureWindow {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    /** Keys tracked at most; the longest-untouched one is forgotten first. */
    private readonly capacity = 100_000,
  ) {}

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  retryAfter(key: string): number {
    const recent = this.#recent(key);
    const oldest = recent[recent.length - this.maxFailures];
    if (oldest === undefined) return 0;
    return oldest + this.windowMs - this.now();
  }

  recordFailure(key: string): void {
    const recent = this.#recent(key);
    recent.push(this.now());
    this.#failures.delete(key);
    if (this.#failures.size >= this.capacity) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    // Only the newest `maxFailures` matter for the decision.
    this.#failures.set(key, recent.slice(-this.maxFailures));
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.#failures.get(key) ?? []).filter((t) => t > since);
  }
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

/**
 * Slows down guessing of passwords and secrets. A guess is refused when its account from its
 * source, its source, or its account overall failed too often lately. Callers must answer a
 * refusal exactly like a wrong guess (and spend the same time), so the refusal confirms nothing
 * about the account.
 */
export class GuessThrottle {
  readonly #pairs: FailureWindow;
  readonly #sources: FailureWindow;
  readonly #accounts: FailureWindow;

  constructor(limits: GuessLimits, now: () => number = Date.now) {
    this.#pairs = new FailureWindow(limits.perAccountAndSource, limits.windowMs, now);
    this.#sources = new FailureWindow(limits.perSource, limits.windowMs, now);
    this.#accounts = new FailureWindow(limits.perAccount, limits.windowMs, now);
  }

  /** Milliseconds until a guess for `account` from `source` is looked at again; 0 means now. */
  retryAfter(account: string, source: string): number {
    return Math.max(
      this.#pairs.retryAfter(pairKey(account, source)),
      this.#sources.retryAfter(source),
      this.#accounts.retryAfter(account),
    );
  }

  recordFailure(account: string, source: string): void {
    this.#pairs.recordFailure(pairKey(account, source));
    this.#sources.recordFailure(source);
    this.#accounts.recordFailure(account);
  }

  /** A right guess clears its pair; the source's and account's other failures still count. */
  recordSuccess(account: string, source: string): void {
    this.#pairs.forget(pairKey(account, source));
  }
}

function pairKey(account: string, source: string): string {
  return `${account}\n${source}`;
}
