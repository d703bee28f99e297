/**
 * Makes text storable in an audit event. PostgreSQL refuses U+0000 in `text` and `jsonb`, and
 * `jsonb` refuses the `\ud800` escape JSON.stringify writes for a lone surrogate: either one in
 * a detail would make the audit insert fail, and with it the change it records. Both are
 * replaced by a visible escape (`\u0000`, `\ud800`), so the event still shows what was sent.
 */
export function auditSafeText(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- U+0000 is exactly what must go.
    /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `auditSafeText` applied to every string (keys included) of a JSON-like value. */
export function auditSafeValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return auditSafeText(value);
  // A hostile or cyclic structure must not turn auditing into a stack overflow.
  if (depth > 20) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => auditSafeValue(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [auditSafeText(k), auditSafeValue(v, depth + 1)]),
    );
  }
  return value;
}
