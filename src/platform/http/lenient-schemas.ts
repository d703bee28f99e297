import { z } from 'zod';

/**
 * A boolean that STUPS clients may also send as the string `"true"` or `"false"` (the wire
 * contract accepts strings for booleans); anything else stays invalid.
 */
export const lenientBoolean = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : v),
  z.boolean(),
);
