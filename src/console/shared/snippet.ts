export interface SnippetPart {
  text: string;
  marked: boolean;
}

/**
 * Kio's search snippets are escaped HTML with `<b>` around matches. The console never puts
 * server text into innerHTML: it splits the snippet into plain text parts instead.
 */
export function parseSnippet(html: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const unescape = (s: string) => s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  let marked = false;
  for (const piece of html.split(/(<\/?b>)/)) {
    if (piece === '<b>') marked = true;
    else if (piece === '</b>') marked = false;
    else if (piece !== '') parts.push({ text: unescape(piece), marked });
  }
  return parts;
}
