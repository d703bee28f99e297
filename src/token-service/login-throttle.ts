/**
 * Slows down password guessing: after `maxFailures` failed logins for one account within
 * `windowMs`, further attempts are refused without looking at the password until the oldest
 * failure leaves the window. Unknown user names are counted the same way, so a refusal says
 * nothing about whether an account exists. Kept per process: with N replicas an attacker gets
 * at most N × `maxFailures` guesses per window.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    /** Accounts tracked at most; the longest-untouched one is forgotten first. */
    private readonly capacity = 100_000,
  ) {}

  /** Milliseconds until `account` may try again; 0 when it may try now. */
  retryAfter(account: string): number {
    const recent = this.#recent(account);
    if (recent.length < this.maxFailures) return 0;
    return recent[recent.length - this.maxFailures]! + this.windowMs - this.now();
  }

  recordFailure(account: string): void {
    const recent = this.#recent(account);
    recent.push(this.now());
    this.#failures.delete(account);
    if (this.#failures.size >= this.capacity) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    // Only the newest `maxFailures` matter for the decision.
    this.#failures.set(account, recent.slice(-this.maxFailures));
  }

  recordSuccess(account: string): void {
    this.#failures.delete(account);
  }

  #recent(account: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.#failures.get(account) ?? []).filter((t) => t > since);
  }
}

/** The sentence users see; the same for every account, known or not. */
export function lockedOutMessage(retryAfterMs: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  return `too many failed logins for this account: try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}
