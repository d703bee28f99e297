/*
 * Search snippets are built here rather than with PostgreSQL's ts_headline: ts_headline
 * re-parses and stems every description it marks up (about 0.1 ms per hit), which made the
 * snippets of one answer cost more than finding and ranking its hits. The rank and the
 * match itself stay PostgreSQL's; the snippet only needs to find the words to mark.
 */

/**
 * The positive lexemes of a tsquery's text form (`'servic' & !'photo' | 'quokka'`): the
 * stems to mark. Negated terms are not marked.
 */
export function queryTerms(tsquery: string): string[] {
  const terms = new Set<string>();
  for (const match of tsquery.matchAll(/(!?)\s*'((?:[^']|'')+)'/g)) {
    if (match[1] === '!') continue;
    terms.add(match[2]!.replaceAll("''", "'").toLowerCase());
  }
  return [...terms];
}

/**
 * One pattern for both finding and marking: a letter/digit run that starts with a term, or
 * with its y-form (English stems turn a final y into i: "happy" → "happi", "library" →
 * "librari"), plus the three characters to escape. One pass of a regular expression instead
 * of a scan and a string built word by word: the snippets were a third of a common-word
 * search answering 50 hits. Case-insensitive by the regular expression's Unicode case
 * folding, which agrees with `toLowerCase` for every script but a few letters such as `İ`.
 */
function markPattern(terms: readonly string[]): RegExp {
  // A part is letters and digits only, so a term with anything else ('foo-bar', 'c++') marks
  // nothing itself (its pieces are terms of their own).
  const forms = terms
    .filter((term) => /^[\p{L}\p{N}]+$/u.test(term))
    .flatMap((term) => (term.endsWith('i') ? [term, `${term.slice(0, -1)}y`] : [term]));
  const match = forms.length > 0 ? `(?<![\\p{L}\\p{N}])(?:${forms.join('|')})[\\p{L}\\p{N}]*|` : '';
  return new RegExp(`${match}[&<>]`, 'giu');
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

export interface SnippetOptions {
  /** Words in the snippet (default 25). */
  maxWords?: number;
  /** Words shown before the first match (default 8). */
  wordsBefore?: number;
}

/**
 * A window of the text around the first word matching one of `terms`, as an HTML fragment:
 * the text is escaped, the matching words are wrapped in `<b>…</b>`. Without a match, the
 * start of the text.
 */
export function highlightSnippet(
  text: string | null,
  terms: readonly string[],
  options: SnippetOptions = {},
): string {
  if (!text) return '';
  const maxWords = options.maxWords ?? 25;
  const wordsBefore = options.wordsBefore ?? 8;
  const words = text.split(/\s+/).filter(Boolean);
  const pattern = markPattern(terms);
  const first = firstMatchingWord(text, pattern);
  const before = Math.min(wordsBefore, maxWords - 1);
  const start = first < 0 ? 0 : Math.max(0, Math.min(first - before, words.length - maxWords));
  return words
    .slice(start, start + maxWords)
    .join(' ')
    .replace(pattern, (m) => ENTITIES[m] ?? `<b>${m}</b>`);
}

/** The index of the first whitespace-separated word with a marked part, or -1. */
function firstMatchingWord(text: string, pattern: RegExp): number {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (ENTITIES[m[0]] !== undefined) continue;
    const prefix = text.slice(0, m.index);
    const wordsBefore = prefix.split(/\s+/).filter(Boolean).length;
    // A match inside a word ("foo-service") leaves that word's start in the prefix.
    return prefix === '' || /\s$/.test(prefix) ? wordsBefore : wordsBefore - 1;
  }
  return -1;
}
