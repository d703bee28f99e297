import type { PolicyDocument } from '../contract.js';

/**
 * A policy document in one canonical form, so the file's and AWS's spelling of the same policy
 * compare equal: Statement always a list, one-element lists as scalars (AWS keeps either), keys
 * sorted. Order of statements and of list items is kept: IAM keeps it as written.
 */
export function canonicalPolicy(doc: unknown): string {
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => walk(x));
      if (key === 'Statement') return items;
      return items.length === 1 ? items[0] : items;
    }
    if (v && typeof v === 'object') {
      const entries = Object.entries(v).sort(([a], [b]) => a.localeCompare(b));
      return Object.fromEntries(
        entries.map(([k, x]) => [k, k === 'Statement' && !Array.isArray(x) ? [walk(x)] : walk(x, k)]),
      );
    }
    return v;
  };
  return JSON.stringify(walk(doc));
}

/** The JSON text AWS returns for a policy (IAM URL-encodes role documents). */
export function parsePolicyText(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch {
    return JSON.parse(decodeURIComponent(text)) as PolicyDocument;
  }
}

export function samePolicy(a: unknown, b: unknown): boolean {
  return canonicalPolicy(a) === canonicalPolicy(b);
}
