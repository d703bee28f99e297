/**
 * Weighted DNS traffic between stack versions. Route53 weights are kept at twice the percentage
 * (0–200), so half percents are possible, as in the original Senza.
 */
export const PERCENT_RESOLUTION = 2;
export const FULL_PERCENTAGE = 100 * PERCENT_RESOLUTION;

export interface WeightChange {
  /** New weight per identifier (`<stack>-<version>`), summing to FULL_PERCENTAGE (or all 0). */
  weights: Map<string, number>;
  deltas: Map<string, number>;
  compensations: Map<string, number>;
  /** Set when the requested percentage had to be changed to keep the sum at 100%. */
  warning?: string;
}

/**
 * Gives `identifier` `percentage` (0–100) of the traffic and spreads the rest over the versions
 * that already get traffic, in proportion to nothing but their count (each moves by the same
 * delta). Versions without traffic stay at 0, versions with traffic never drop below the
 * minimum weight 1 unless the target takes 100%. Rounding errors are compensated on the newest
 * other versions first; if they are all at the minimum, the target's percentage absorbs it.
 * `order` lists identifiers oldest first.
 */
export function calculateWeights(
  known: ReadonlyMap<string, number>,
  identifier: string,
  percentage: number,
  order: readonly string[],
): WeightChange {
  if (!(percentage >= 0 && percentage <= 100)) throw new RangeError('percentage must be between 0 and 100');
  let target = Math.round(percentage * PERCENT_RESOLUTION);
  const weights = new Map<string, number>(known);
  if (!weights.has(identifier)) weights.set(identifier, 0);
  const others = [...weights].filter(([id, w]) => id !== identifier && w > 0);
  const partialCount = others.length;
  const partialSum = others.reduce((sum, [, w]) => sum + w, 0);
  const compensations = new Map<string, number>();
  const deltas = new Map<string, number>();

  if (partialCount === 0 && target === 0) {
    // Switching off the last version with traffic: every record goes to 0.
    for (const id of weights.keys()) {
      deltas.set(id, -(known.get(id) ?? 0));
      weights.set(id, 0);
    }
    return { weights, deltas, compensations };
  }
  let delta = 0;
  if (partialCount) delta = Math.trunc((FULL_PERCENTAGE - target - partialSum) / partialCount);
  else if (target > 0) {
    // The only version with traffic always takes all of it.
    compensations.set(identifier, FULL_PERCENTAGE - target);
    target = FULL_PERCENTAGE;
  }
  for (const [id, old] of [...weights]) {
    let next: number;
    if (id === identifier) next = target;
    else if (target === FULL_PERCENTAGE) next = 0;
    else next = old > 0 ? Math.max(1, Math.trunc(old + delta)) : 0;
    weights.set(id, next);
    deltas.set(id, next - (known.get(id) ?? 0));
  }

  let error = FULL_PERCENTAGE - [...weights.values()].reduce((a, b) => a + b, 0);
  let warning: string | undefined;
  if (error !== 0) {
    let part = error / partialCount;
    part = part > 0 ? Math.trunc(Math.max(1, part)) : Math.trunc(Math.min(-1, part));
    const newestFirst = [...weights.keys()]
      .filter((id) => id !== identifier)
      .sort((a, b) => order.indexOf(b) - order.indexOf(a));
    for (const id of newestFirst) {
      const next = weights.get(id)! + part;
      if (next <= 0) continue;
      weights.set(id, next);
      error -= part;
      compensations.set(id, part);
      if (error === 0) break;
    }
    if (error !== 0) {
      const adjusted = target + error;
      warning =
        `Changing given percentage from ${target / PERCENT_RESOLUTION} to ${adjusted / PERCENT_RESOLUTION} ` +
        'because all other versions are already getting the possible minimum traffic';
      compensations.set(identifier, error);
      weights.set(identifier, adjusted);
    }
  }
  return { weights, deltas, compensations, ...(warning ? { warning } : {}) };
}
