import { Cache, type CacheLookups } from '../cache/index.js';
import type { ChangeFeed } from '../db/change-feed.js';
import type { Principal, Realm } from './principal.js';

/** Answers whether a principal may no longer act, e.g. because its user was disabled. */
export type PrincipalCheck = (principal: Principal) => Promise<boolean>;

/** A `PrincipalCheck` answering from memory, which can also be asked without waiting. */
export interface CachedPrincipalCheck extends PrincipalCheck {
  /**
   * The remembered answer while it is fresh, else undefined (then ask the check itself). For hot
   * paths that answer without a promise (tokeninfo); it neither counts a lookup nor loads.
   */
  peek(principal: Principal): boolean | undefined;
}

/**
 * Channel of the change feed on which a user's or service user's status change is announced;
 * the key is `principalStatusKey(realm, uid)`. Writers notify in the transaction of the change.
 */
export const PRINCIPAL_STATUS_CHANNEL = 'auth.principal-status';

/** The change-feed key of one principal, whatever issuer its tokens come from. */
export function principalStatusKey(realm: Realm, uid: string): string {
  return `${realm}\n${uid}\n`;
}

/**
 * Remembers the answers of `check` for `ttlMs` per realm, uid and issuer. Every verification asks,
 * so the directory behind `check` is asked at most once per principal and TTL. With `changes`,
 * a status change announced by any replica drops the principal's answers on the next request
 * after its commit; the TTL bounds staleness while the feed's connection is down.
 */
export function cachedPrincipalCheck(
  check: PrincipalCheck,
  options: {
    ttlMs: number;
    now?: () => number;
    capacity?: number;
    lookups?: CacheLookups;
    changes?: ChangeFeed | undefined;
  },
): CachedPrincipalCheck {
  const answers = new Cache<string, { refused: boolean }, Principal>({
    name: 'principal-status',
    max: options.capacity ?? 10_000,
    ttlMs: options.ttlMs,
    now: options.now,
    lookups: options.lookups,
    load: async (_key, principal) => ({ refused: await check(principal) }),
  });
  options.changes?.subscribe(PRINCIPAL_STATUS_CHANNEL, (key) => {
    if (key === undefined) answers.clear();
    else answers.deleteWhere((k) => k.startsWith(key));
  });
  const keyOf = (principal: Principal) =>
    `${principalStatusKey(principal.realm, principal.uid)}${principal.issuer}`;
  const cachedCheck = async (principal: Principal) =>
    (await answers.fetch(keyOf(principal), principal)).refused;
  return Object.assign(cachedCheck, {
    peek: (principal: Principal) => answers.peek(keyOf(principal))?.refused,
  });
}
