import type { Principal } from '../platform/auth/principal.js';
import { Cache, type CacheLookups } from '../platform/cache/index.js';

/** Answers kept at most; one is about 1.5 KiB (the token twice: key and `access_token` field). */
export const TOKENINFO_ANSWERS_MAX = 10_000;

/** What the answer of a remembered token still depends on, asked without waiting. */
export interface AnswerChecks {
  /** Whether the token id is revoked; undefined when that is not known fresh in memory. */
  peekRevoked(tokenId: string): boolean | undefined;
  /** Whether the principal may no longer act; undefined when not known fresh in memory. */
  peekDisabled(principal: Principal): boolean | undefined;
}

interface Answer {
  /** The serialised document up to and including `"expires_in":`, the one field that changes. */
  head: string;
  principal: Principal;
}

/**
 * Tokeninfo answers of tokens verified before, pre-serialised (issue 23): a hot token costs one
 * lookup by the token itself and one concatenation, with no promise, hash or JSON on the way.
 *
 * An answer is given only while everything the full verification would ask is known in memory
 * and says yes: the token has not expired, the revocation snapshot is fresh and does not list
 * it, the principal's status is fresh and not disabled. Otherwise the caller verifies the token
 * the full way, which refuses it exactly as before (a revocation by any replica, announced
 * through the change feed, empties the snapshot, so the next request takes that way). Entries
 * go at token expiry or when evicted; the tokens they hold are in memory anyway (the answer
 * repeats the token) and are never logged.
 */
export class TokenInfoAnswers {
  readonly #answers: Cache<string, Answer>;

  constructor(
    private readonly checks: AnswerChecks,
    private readonly now: () => number,
    lookups?: CacheLookups,
  ) {
    this.#answers = new Cache({ name: 'tokeninfo-answers', max: TOKENINFO_ANSWERS_MAX, now, lookups });
  }

  /** The answer for `token` if it can be given from memory, else undefined (verify it). */
  answer(token: string): string | undefined {
    const answer = this.#answers.get(token);
    if (answer === undefined) return undefined;
    const { principal } = answer;
    const now = this.now();
    const expiresAt = principal.expiresAt.getTime();
    if (expiresAt <= now) {
      this.#answers.delete(token);
      return undefined;
    }
    if (principal.tokenId !== undefined && this.checks.peekRevoked(principal.tokenId) !== false) {
      return undefined;
    }
    if (this.checks.peekDisabled(principal) !== false) return undefined;
    return `${answer.head}${expiresInSeconds(expiresAt, now)}}`;
  }

  /**
   * Keeps the answer of a token just verified, `document` being its tokeninfo without
   * `expires_in`; returns the answer as of now.
   */
  remember(token: string, principal: Principal, document: Record<string, unknown>): string {
    const head = `${JSON.stringify(document).slice(0, -1)},"expires_in":`;
    const now = this.now();
    const expiresAt = principal.expiresAt.getTime();
    if (expiresAt > now) this.#answers.set(token, { head, principal }, { ttlMs: expiresAt - now });
    return `${head}${expiresInSeconds(expiresAt, now)}}`;
  }

  /** Drops the answer of a token refused or revoked (memory; a stale answer is never given). */
  forget(token: string): void {
    this.#answers.delete(token);
  }
}

/** Whole seconds left, as tokeninfo has always counted them (never negative). */
export function expiresInSeconds(expiresAtMs: number, nowMs: number): number {
  return Math.max(0, Math.floor(expiresAtMs / 1000) - Math.floor(nowMs / 1000));
}
