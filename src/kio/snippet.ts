/*
 * Search snippets are built here rather than with PostgreSQL's ts_headline: ts_headline
 * re-parses and stems every description it marks up (about 0.1 ms per hit), which made the
 * snippets of one answer cost more than finding and ranking its hits. The rank and the
 * match itself stay PostgreSQL's; the snippet only needs to find the words to mark.
 */

const WORD_PART = /[\p{L}\p{N}]+/gu;

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

function matchesTerm(part: string, terms: readonly string[]): boolean {
  const lower = part.toLowerCase();
  return terms.some(
    (term) =>
      lower.startsWith(term) ||
      // English stems turn a final y into i: "happy" → "happi", "library" → "librari".
      (term.endsWith('i') && lower.startsWith(`${term.slice(0, -1)}y`)),
  );
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** One word with its matching parts marked: `quokka,` → `<b>quokka</b>,`. Everything else escaped. */
function markWord(word: string, terms: readonly string[]): { html: string; matched: boolean } {
  let html = '';
  let matched = false;
  let last = 0;
  for (const part of word.matchAll(WORD_PART)) {
    html += escapeHtml(word.slice(last, part.index));
    if (matchesTerm(part[0], terms)) {
      html += `<b>${escapeHtml(part[0])}</b>`;
      matched = true;
    } else {
      html += escapeHtml(part[0]);
    }
    last = part.index + part[0].length;
  }
  return { html: html + escapeHtml(word.slice(last)), matched };
}

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
  const marked = words.map((w) => markWord(w, terms));
  const first = marked.findIndex((m) => m.matched);
  const before = Math.min(wordsBefore, maxWords - 1);
  const start = first < 0 ? 0 : Math.max(0, Math.min(first - before, words.length - maxWords));
  return marked
    .slice(start, start + maxWords)
    .map((m) => m.html)
    .join(' ');
}
