/** Deep merge of plain objects; later layers win, arrays and scalars are replaced whole. */
export function mergeSettings(...layers: ReadonlyArray<unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!isPlainObject(layer)) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const existing = result[key];
      result[key] = isPlainObject(value) && isPlainObject(existing) ? mergeSettings(existing, value) : value;
    }
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
