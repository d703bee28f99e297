import { posix } from 'node:path';
import JSZip from 'jszip';
import { SaxesParser } from 'saxes';

/*
 * A structural check of an XLSX (OPC) package: the things a hand-added part gets wrong and Excel
 * then "repairs" by dropping it. saxes (the strict, namespace-aware parser exceljs reads with) finds
 * XML that is not well-formed; xmlbuilder2's parser would accept an unclosed tag.
 */

/** An element of a parsed part: namespace URI, local name, attributes by `{uri}local` and by qualified name. */
export interface XmlElement {
  uri: string;
  local: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses `xml` strictly; throws with the parser's line and column when it is not well-formed. */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('opentag', (tag) => {
    const attributes = new Map<string, string>();
    for (const a of Object.values(tag.attributes)) {
      attributes.set(a.name, a.value);
      if (a.uri) attributes.set(`{${a.uri}}${a.local}`, a.value);
    }
    const el: XmlElement = { uri: tag.uri, local: tag.local, attributes, children: [], text: '' };
    stack.at(-1)?.children.push(el);
    root ??= el;
    stack.push(el);
  });
  parser.on('text', (t) => {
    const top = stack.at(-1);
    if (top) top.text += t;
  });
  parser.on('closetag', () => stack.pop());
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element below `el` (itself included) with local name `local` (and namespace `uri`, when given). */
export function descendants(el: XmlElement, local: string, uri?: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.local === local && (uri === undefined || e.uri === uri)) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

/** A chart part and the cell references (`<c:f>`) of its series. */
export interface ChartInfo {
  part: string;
  /** The sheet the chart is drawn on, found through sheet → drawing → chart relationships. */
  sheet: string | undefined;
  kind: string[];
  references: string[];
  title: string;
}

export interface XlsxPackageReport {
  /** One line per problem; empty when the package is well-formed. */
  problems: string[];
  charts: ChartInfo[];
  /** Sheet names in workbook order. */
  sheets: string[];
}

const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const TYPES_NS = 'http://schemas.openxmlformats.org/package/2006/content-types';

/** The relationships part of `partName` (`xl/x.xml` → `xl/_rels/x.xml.rels`; the package's is `_rels/.rels`). */
function relsPathOf(partName: string): string {
  const dir = posix.dirname(partName);
  return posix.join(dir === '.' ? '' : dir, '_rels', `${posix.basename(partName)}.rels`);
}

/** The part a `.rels` file describes (`xl/_rels/x.xml.rels` → `xl/x.xml`; `_rels/.rels` → the package root ``). */
function sourceOf(relsPath: string): string {
  const file = posix.basename(relsPath);
  if (file === '.rels') return '';
  const dir = posix.dirname(posix.dirname(relsPath));
  return posix.join(dir === '.' ? '' : dir, file.slice(0, -'.rels'.length));
}

function resolveTarget(source: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const dir = source === '' ? '' : posix.dirname(source);
  return posix.normalize(posix.join(dir === '.' ? '' : dir, target));
}

/** A reference like `'Cost centres'!$C$2:$C$5` → its sheet name. */
export function sheetOfReference(ref: string): string | undefined {
  const m = /^(?:'((?:[^']|'')+)'|([^!'\s]+))!/.exec(ref);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/''/g, "'") : m[2];
}

/**
 * Checks an XLSX package: every XML part well-formed; every part has a content type (a Default
 * for its extension or an Override) and every Override names an existing part; every internal
 * relationship target exists; every chart reference names an existing sheet. Returns the
 * problems (none when well-formed) and what the charts reference, for tests and callers.
 */
export async function checkXlsxPackage(data: Uint8Array): Promise<XlsxPackageReport> {
  const zip = await JSZip.loadAsync(data);
  const parts = Object.values(zip.files)
    .filter((f) => !f.dir)
    .map((f) => f.name);
  const partSet = new Set(parts);
  const problems: string[] = [];
  const parsed = new Map<string, XmlElement>();
  for (const name of parts) {
    if (!/\.(xml|rels)$/.test(name)) continue;
    try {
      parsed.set(name, parseXml(await zip.file(name)!.async('string')));
    } catch (error) {
      problems.push(`${name}: not well-formed XML: ${(error as Error).message}`);
    }
  }

  const types = parsed.get('[Content_Types].xml');
  if (!types) problems.push('[Content_Types].xml is missing');
  else {
    const defaults = new Set(
      descendants(types, 'Default', TYPES_NS).map((d) => d.attributes.get('Extension')?.toLowerCase()),
    );
    const overrides = new Set<string>();
    for (const o of descendants(types, 'Override', TYPES_NS)) {
      const partName = (o.attributes.get('PartName') ?? '').replace(/^\//, '');
      overrides.add(partName);
      if (!partSet.has(partName)) problems.push(`content type override for missing part /${partName}`);
    }
    for (const name of parts) {
      if (name === '[Content_Types].xml') continue;
      // `_rels/.rels` has extension `rels` for OPC, though not for path.extname.
      const base = posix.basename(name);
      const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
      if (!overrides.has(name) && !defaults.has(ext)) problems.push(`part ${name} has no content type`);
    }
  }

  const relTargets = new Map<string, Map<string, string>>();
  for (const [name, root] of parsed) {
    if (!name.endsWith('.rels')) continue;
    const source = sourceOf(name);
    if (source !== '' && !partSet.has(source)) problems.push(`${name} describes missing part ${source}`);
    const byId = new Map<string, string>();
    for (const r of descendants(root, 'Relationship', PKG_REL_NS)) {
      const id = r.attributes.get('Id') ?? '';
      if (byId.has(id)) problems.push(`${name}: relationship id ${id} used twice`);
      if (r.attributes.get('TargetMode') === 'External') {
        byId.set(id, '');
        continue;
      }
      const target = resolveTarget(source, r.attributes.get('Target') ?? '');
      byId.set(id, target);
      if (!partSet.has(target)) problems.push(`${name}: relationship ${id} points at missing part ${target}`);
    }
    relTargets.set(source, byId);
  }

  // Every r:id used inside a part must be one of that part's relationships.
  for (const [name, root] of parsed) {
    if (name.endsWith('.rels')) continue;
    const ids = relTargets.get(name);
    const walk = (e: XmlElement) => {
      const id = e.attributes.get(`{${REL_NS}}id`);
      if (id !== undefined && !ids?.has(id))
        problems.push(`${name}: <${e.local} r:id="${id}"> has no relationship in ${relsPathOf(name)}`);
      e.children.forEach(walk);
    };
    walk(root);
  }

  const sheets: string[] = [];
  const sheetByPart = new Map<string, string>();
  const workbook = parsed.get('xl/workbook.xml');
  if (workbook)
    for (const s of descendants(workbook, 'sheet')) {
      const name = s.attributes.get('name') ?? '';
      sheets.push(name);
      const target = relTargets.get('xl/workbook.xml')?.get(s.attributes.get(`{${REL_NS}}id`) ?? '');
      if (target) sheetByPart.set(target, name);
    }

  const sheetOfChart = new Map<string, string>();
  for (const [sheetPartName, sheet] of sheetByPart)
    for (const drawing of relTargets.get(sheetPartName)?.values() ?? [])
      // A sheet's drawing relationship leads to its charts; other targets have none.
      for (const chart of relTargets.get(drawing)?.values() ?? []) sheetOfChart.set(chart, sheet);

  const charts: ChartInfo[] = [];
  for (const [name, root] of parsed) {
    if (!/^xl\/charts\/chart\d+\.xml$/.test(name)) continue;
    const references = descendants(root, 'f').map((f) => f.text.trim());
    for (const ref of references) {
      const sheet = sheetOfReference(ref);
      if (sheet === undefined || !sheets.includes(sheet))
        problems.push(`${name}: reference ${ref} names no sheet of the workbook`);
    }
    const plot = descendants(root, 'plotArea')[0];
    charts.push({
      part: name,
      sheet: sheetOfChart.get(name),
      kind: (plot?.children ?? []).map((c) => c.local).filter((l) => l.endsWith('Chart')),
      references,
      title: descendants(descendants(root, 'title')[0] ?? root, 't')
        .map((t) => t.text)
        .join(''),
    });
    if (!sheetOfChart.has(name)) problems.push(`${name} is not drawn on any sheet`);
  }
  return { problems, charts, sheets };
}
