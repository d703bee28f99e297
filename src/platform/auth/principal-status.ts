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
  options: { ttlMs: number; now?: () => number; capacity?: number },
): PrincipalCheck {
  const now = options.now ?? Date.now;
  const capacity = options.capacity ?? 10_000;
  const answers = new Map<string, { refused: boolean; at: number }>();
  const pending = new Map<string, Promise<boolean>>();
  return async (principal) => {
    const key = `${principal.issuer}\n${principal.realm}\n${principal.uid}`;
    const known = answers.get(key);
    const t = now();
    if (known && t - known.at < options.ttlMs && known.at <= t) return known.refused;
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const asking = check(principal)
      .then((refused) => {
        answers.delete(key);
        if (answers.size >= capacity) {
          const oldest = answers.keys().next().value;
          if (oldest !== undefined) answers.delete(oldest);
        }
        answers.set(key, { refused, at: t });
        return refused;
      })
      .finally(() => pending.delete(key));
    pending.set(key, asking);
    return asking;
  };
}
