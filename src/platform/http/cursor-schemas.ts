import { z } from 'zod';

const MAX_BIGINT = 2n ** 63n - 1n;

/**
 * A keyset cursor that is the id of a PostgreSQL `bigserial` row, as a decimal string. Longer
 * digit strings are refused here: they name no row and would overflow the comparison in the
 * database (a 500 rather than a 400).
 */
export function bigintCursor(what: string) {
  return (
    z
      .string()
      .regex(/^\d{1,19}$/, `must be ${what}`)
      // Zod runs this even when the pattern failed; BigInt('x') would throw (a 500).
      .refine((id) => !/^\d+$/.test(id) || BigInt(id) <= MAX_BIGINT, `must be ${what} (at most 2^63 - 1)`)
  );
}
