import { Cache, type CacheLookups } from '../cache/index.js';
import type { Principal } from './principal.js';

/** Answers whether a principal may no longer act, e.g. because its user was disabled. */
export type PrincipalCheck = (principal: Principal) => Promise<boolean>;

/**
 * Remembers the answers of `check` for `ttlMs` per issuer, realm and uid. Every verification asks,
 * so the directory behind `check` is asked at most once per principal and TTL; replicas converge
 * within the TTL after a user is disabled, without any message between them.
 */
export function cachedPrincipalCheck(
  check: PrincipalCheck,
  options: { ttlMs: number; now?: () => number; capacity?: number; lookups?: CacheLookups },
): PrincipalCheck {
  const answers = new Cache<string, { refused: boolean }, Principal>({
    name: 'principal-status',
    max: options.capacity ?? 10_000,
    ttlMs: options.ttlMs,
    now: options.now,
    lookups: options.lookups,
    load: async (_key, principal) => ({ refused: await check(principal) }),
  });
  return async (principal) => {
    const key = `${principal.issuer}\n${principal.realm}\n${principal.uid}`;
    return (await answers.fetch(key, principal)).refused;
  };
}
