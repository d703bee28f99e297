/**
 * The forms of an HTML page, as far as a SAML login needs them: each form's action, method and
 * inputs. Login pages are HTML, not XML (unclosed `<input>`, bare attributes, `&nbsp;`), so an
 * XML parser refuses them; this reads only tags, which is all STUPS Mai's BeautifulSoup calls
 * looked at (`find('form')['action']`, `find_all('input', name='SAMLResponse')`).
 */

export interface HtmlInput {
  name: string;
  type: string;
  value: string;
  checked: boolean;
}

export interface HtmlForm {
  /** As written in the page (may be relative or empty: resolve against the page's URL). */
  action: string;
  method: 'GET' | 'POST';
  inputs: HtmlInput[];
}

// A tag: `<name attr attr=value attr="v" attr='v'>` or `</name>`; comments and scripts are cut first.
const TAG = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/g;
const ATTRIBUTE = /([^\s=>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** `&amp;`, `&#43;`, `&#x2B;` and the few named entities attribute values carry. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X'))
      return codePoint(parseInt(entity.slice(2), 16), whole);
    if (entity.startsWith('#')) return codePoint(parseInt(entity.slice(1), 10), whole);
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function codePoint(n: number, fallback: string): string {
  return Number.isInteger(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : fallback;
}

function attributesOf(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const m of source.matchAll(ATTRIBUTE)) {
    const name = m[1]!.toLowerCase();
    // The first of a repeated attribute wins, as in browsers.
    if (!attributes.has(name)) attributes.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attributes;
}

/** Every form of the page in document order; inputs outside any form are not part of one. */
export function htmlForms(html: string): HtmlForm[] {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|textarea)\b[\s\S]*?<\/\1\s*>/gi, '');
  const forms: HtmlForm[] = [];
  let current: HtmlForm | undefined;
  for (const m of text.matchAll(TAG)) {
    const closing = m[1] === '/';
    const tag = m[2]!.toLowerCase();
    if (tag === 'form') {
      if (closing) {
        current = undefined;
        continue;
      }
      const a = attributesOf(m[3] ?? '');
      current = {
        action: a.get('action') ?? '',
        method: (a.get('method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
        inputs: [],
      };
      forms.push(current);
    } else if ((tag === 'input' || tag === 'button') && !closing && current) {
      const a = attributesOf(m[3] ?? '');
      const name = a.get('name');
      if (name === undefined || a.has('disabled')) continue;
      const type = (a.get('type') ?? (tag === 'button' ? 'submit' : 'text')).toLowerCase();
      current.inputs.push({ name, type, value: a.get('value') ?? '', checked: a.has('checked') });
    }
  }
  return forms;
}

/** The value of the first `<input name="…">` anywhere in the page (e.g. `SAMLResponse`). */
export function inputValue(html: string, name: string): string | undefined {
  for (const form of htmlForms(html)) {
    const input = form.inputs.find((i) => i.name === name);
    if (input) return input.value;
  }
  // An input outside a form still counts: STUPS Mai searched the whole page.
  for (const m of html.matchAll(TAG)) {
    if (m[1] !== '/' && m[2]!.toLowerCase() === 'input') {
      const a = attributesOf(m[3] ?? '');
      if (a.get('name') === name) return a.get('value') ?? '';
    }
  }
  return undefined;
}

/**
 * The fields a browser would submit for a form: hidden and pre-filled inputs, checked boxes only,
 * and of several submit buttons only the first (the one Enter presses).
 */
export function formFields(form: HtmlForm): [string, string][] {
  const fields: [string, string][] = [];
  let submitted = false;
  for (const input of form.inputs) {
    if (input.type === 'submit' || input.type === 'image') {
      if (!submitted && input.name) fields.push([input.name, input.value]);
      submitted = true;
    } else if (input.type === 'checkbox' || input.type === 'radio') {
      if (input.checked) fields.push([input.name, input.value || 'on']);
    } else if (input.type !== 'file' && input.type !== 'reset' && input.type !== 'button') {
      fields.push([input.name, input.value]);
    }
  }
  return fields;
}
