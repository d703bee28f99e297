import type { z } from 'zod';
import { settingLeaves } from './schema-walk.js';

export const REDACTED = '<redacted>';

/** A copy of `value` with every setting marked `secret()` in `schema` replaced by REDACTED. */
export function redactSecrets(schema: z.ZodType, value: unknown): unknown {
  const copy: unknown = structuredClone(value);
  for (const leaf of settingLeaves(schema)) {
    if (!leaf.secret) continue;
    let parent = copy as Record<string, unknown> | undefined;
    for (const key of leaf.path.slice(0, -1)) {
      parent = parent?.[key] as Record<string, unknown> | undefined;
    }
    const last = leaf.path.at(-1);
    if (parent && last !== undefined && parent[last] !== undefined) parent[last] = REDACTED;
  }
  return copy;
}
