import Mustache from 'mustache';

export type TemplateContext = Record<string, unknown>;

/**
 * Renders one string with mustache. As in the original Senza, `{{…}}` HTML-escapes and
 * `{{{…}}}` does not.
 */
export function renderString(text: string, context: TemplateContext): string {
  if (!text.includes('{{')) return text;
  return Mustache.render(text, context, undefined, { escape: escapeHtml });
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
};

/** What pystache (the original's engine) escapes; mustache.js would also escape `/`, `=` and backticks. */
function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Renders every string (and map key) in a YAML tree. The original renders the whole definition
 * as YAML text and parses it again; rendering value by value gives the same strings without
 * letting a parameter value change the structure of the definition.
 */
export function renderTree<T>(node: T, context: TemplateContext): T {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return renderString(value, context);
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [renderString(k, context), walk(v)]));
    }
    return value;
  };
  return walk(node) as T;
}

/** The `AccountInfo.*` names a template text uses, so only those are looked up in AWS. */
export function usedAccountInfo(text: string): Set<string> {
  const used = new Set<string>();
  for (const match of text.matchAll(/\{\{\{?\s*[#^/&]?\s*AccountInfo\.([A-Za-z]+)/g)) used.add(match[1]!);
  return used;
}
