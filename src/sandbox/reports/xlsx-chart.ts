import JSZip from 'jszip';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type * as Xmlbuilder2Package from 'xmlbuilder2';
import { lazyPackage } from '../../platform/lazy-package.js';
import { checkXlsxPackage, descendants, parseXml } from './xlsx-package.js';

// Loaded when a report is written, not with the sandbox service (see lazyPackage).
const xmlbuilder = lazyPackage<typeof Xmlbuilder2Package>('xmlbuilder2');

/*
 * exceljs writes workbooks but not charts, so a chart is added to the written package by hand:
 * xl/charts/chartN.xml (the chart, its series referring to the sheet's cells), xl/drawings/drawingN.xml
 * (where on the sheet it sits), the relationships sheet → drawing → chart, and both content types.
 */

const NS = {
  main: 'http://schemas.openxmlformats.org/spreadsheetml/2006/main',
  rel: 'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  pkgRel: 'http://schemas.openxmlformats.org/package/2006/relationships',
  types: 'http://schemas.openxmlformats.org/package/2006/content-types',
  chart: 'http://schemas.openxmlformats.org/drawingml/2006/chart',
  a: 'http://schemas.openxmlformats.org/drawingml/2006/main',
  xdr: 'http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing',
} as const;

const REL_TYPE = {
  drawing: `${NS.rel}/drawing`,
  chart: `${NS.rel}/chart`,
} as const;

const CONTENT_TYPE = {
  chart: 'application/vnd.openxmlformats-officedocument.drawingml.chart+xml',
  drawing: 'application/vnd.openxmlformats-officedocument.drawing+xml',
} as const;

/** One series of a column chart: its values sit in `column`, on the same rows as the categories. */
export interface ChartSeries {
  /** Column letter of the values, e.g. `C`; its header (the row above the first value) names the series. */
  column: string;
  name: string;
  values: number[];
}

/** A clustered column chart over one block of a sheet: categories in one column, series beside it. */
export interface ColumnChartSpec {
  /** Worksheet name holding the data (and the chart). */
  sheet: string;
  title: string;
  /** Column letter of the category labels, e.g. `A`. */
  categoryColumn: string;
  /** 1-based row of the first category (the header sits one row above). */
  firstRow: number;
  categories: string[];
  series: ChartSeries[];
  /** Where the chart sits: 0-based columns and rows of its top-left and bottom-right cells. */
  anchor: { fromCol: number; fromRow: number; toCol: number; toRow: number };
}

/** `'Sheet name'!$A$2:$A$9`: sheet names are always quoted, an inner quote doubled. */
export function absoluteRef(sheet: string, column: string, from: number, to = from): string {
  const name = `'${sheet.replace(/'/g, "''")}'`;
  return from === to ? `${name}!$${column}$${from}` : `${name}!$${column}$${from}:$${column}$${to}`;
}

function addStrCache(parent: XMLBuilder, values: string[]): void {
  const cache = parent.ele('c:strCache');
  cache.ele('c:ptCount', { val: values.length });
  values.forEach((v, idx) => cache.ele('c:pt', { idx }).ele('c:v').txt(v));
}

/**
 * The chart part. Each reference carries a cache of the current values, as Excel writes it, so that
 * viewers that do not recalculate (previews, LibreOffice on open) show the bars at once.
 */
export function chartXml(spec: ColumnChartSpec): string {
  if (spec.categories.length === 0) throw new Error(`chart "${spec.title}": no categories`);
  for (const s of spec.series)
    if (s.values.length !== spec.categories.length)
      throw new Error(
        `chart "${spec.title}": series ${s.name} has ${s.values.length} values for ${spec.categories.length} categories`,
      );
  const lastRow = spec.firstRow + spec.categories.length - 1;
  const doc = xmlbuilder().create({ version: '1.0', encoding: 'UTF-8', standalone: true });
  const space = doc.ele(NS.chart, 'c:chartSpace', { 'xmlns:a': NS.a, 'xmlns:r': NS.rel });
  space.ele('c:roundedCorners', { val: 0 });
  const chart = space.ele('c:chart');
  const title = chart.ele('c:title');
  const rich = title.ele('c:tx').ele('c:rich');
  rich.ele('a:bodyPr');
  rich.ele('a:p').ele('a:r').ele('a:t').txt(spec.title);
  title.ele('c:overlay', { val: 0 });
  chart.ele('c:autoTitleDeleted', { val: 0 });
  const plot = chart.ele('c:plotArea');
  plot.ele('c:layout');
  const bar = plot.ele('c:barChart');
  bar.ele('c:barDir', { val: 'col' });
  bar.ele('c:grouping', { val: 'clustered' });
  bar.ele('c:varyColors', { val: 0 });
  spec.series.forEach((s, i) => {
    const ser = bar.ele('c:ser');
    ser.ele('c:idx', { val: i });
    ser.ele('c:order', { val: i });
    const tx = ser.ele('c:tx').ele('c:strRef');
    tx.ele('c:f').txt(absoluteRef(spec.sheet, s.column, spec.firstRow - 1));
    addStrCache(tx, [s.name]);
    ser.ele('c:invertIfNegative', { val: 0 });
    const cat = ser.ele('c:cat').ele('c:strRef');
    cat.ele('c:f').txt(absoluteRef(spec.sheet, spec.categoryColumn, spec.firstRow, lastRow));
    addStrCache(cat, spec.categories);
    const val = ser.ele('c:val').ele('c:numRef');
    val.ele('c:f').txt(absoluteRef(spec.sheet, s.column, spec.firstRow, lastRow));
    const cache = val.ele('c:numCache');
    cache.ele('c:formatCode').txt('#,##0.00');
    cache.ele('c:ptCount', { val: s.values.length });
    s.values.forEach((v, idx) => cache.ele('c:pt', { idx }).ele('c:v').txt(String(v)));
  });
  bar.ele('c:gapWidth', { val: 150 });
  bar.ele('c:axId', { val: 500000001 });
  bar.ele('c:axId', { val: 500000002 });
  const catAx = plot.ele('c:catAx');
  catAx.ele('c:axId', { val: 500000001 });
  catAx.ele('c:scaling').ele('c:orientation', { val: 'minMax' });
  catAx.ele('c:delete', { val: 0 });
  catAx.ele('c:axPos', { val: 'b' });
  catAx.ele('c:numFmt', { formatCode: 'General', sourceLinked: 1 });
  catAx.ele('c:tickLblPos', { val: 'nextTo' });
  catAx.ele('c:crossAx', { val: 500000002 });
  catAx.ele('c:crosses', { val: 'autoZero' });
  catAx.ele('c:auto', { val: 1 });
  catAx.ele('c:lblAlgn', { val: 'ctr' });
  catAx.ele('c:lblOffset', { val: 100 });
  catAx.ele('c:noMultiLvlLbl', { val: 0 });
  const valAx = plot.ele('c:valAx');
  valAx.ele('c:axId', { val: 500000002 });
  valAx.ele('c:scaling').ele('c:orientation', { val: 'minMax' });
  valAx.ele('c:delete', { val: 0 });
  valAx.ele('c:axPos', { val: 'l' });
  valAx.ele('c:majorGridlines');
  valAx.ele('c:numFmt', { formatCode: '#,##0.00', sourceLinked: 0 });
  valAx.ele('c:tickLblPos', { val: 'nextTo' });
  valAx.ele('c:crossAx', { val: 500000001 });
  valAx.ele('c:crosses', { val: 'autoZero' });
  valAx.ele('c:crossBetween', { val: 'between' });
  const legend = chart.ele('c:legend');
  legend.ele('c:legendPos', { val: 'b' });
  legend.ele('c:overlay', { val: 0 });
  chart.ele('c:plotVisOnly', { val: 1 });
  chart.ele('c:dispBlanksAs', { val: 'gap' });
  return doc.end();
}

/** The drawing part: one anchored graphic frame per chart, each pointing at its chart by relationship id. */
function drawingXml(anchors: { spec: ColumnChartSpec; relId: string }[]): string {
  const doc = xmlbuilder().create({ version: '1.0', encoding: 'UTF-8', standalone: true });
  const root = doc.ele(NS.xdr, 'xdr:wsDr', { 'xmlns:a': NS.a });
  anchors.forEach(({ spec, relId }, i) => {
    const anchor = root.ele('xdr:twoCellAnchor');
    for (const [edge, col, row] of [
      ['xdr:from', spec.anchor.fromCol, spec.anchor.fromRow],
      ['xdr:to', spec.anchor.toCol, spec.anchor.toRow],
    ] as const) {
      const at = anchor.ele(edge);
      at.ele('xdr:col').txt(String(col));
      at.ele('xdr:colOff').txt('0');
      at.ele('xdr:row').txt(String(row));
      at.ele('xdr:rowOff').txt('0');
    }
    const frame = anchor.ele('xdr:graphicFrame', { macro: '' });
    const nv = frame.ele('xdr:nvGraphicFramePr');
    nv.ele('xdr:cNvPr', { id: i + 2, name: `Chart ${i + 1}`, descr: spec.title });
    nv.ele('xdr:cNvGraphicFramePr');
    const xfrm = frame.ele('xdr:xfrm');
    xfrm.ele('a:off', { x: 0, y: 0 });
    xfrm.ele('a:ext', { cx: 0, cy: 0 });
    frame
      .ele('a:graphic')
      .ele('a:graphicData', { uri: NS.chart })
      .ele(NS.chart, 'c:chart', { 'xmlns:r': NS.rel, 'r:id': relId });
    anchor.ele('xdr:clientData');
  });
  return doc.end();
}

function relsXml(rels: { id: string; type: string; target: string }[]): string {
  const doc = xmlbuilder().create({ version: '1.0', encoding: 'UTF-8', standalone: true });
  const root = doc.ele(NS.pkgRel, 'Relationships');
  for (const r of rels) root.ele('Relationship', { Id: r.id, Type: r.type, Target: r.target });
  return doc.end();
}

/** Text of a part that must be there; a missing one means the package is not what exceljs writes. */
async function part(zip: JSZip, name: string): Promise<string> {
  const file = zip.file(name);
  if (!file) throw new Error(`XLSX package has no part ${name}`);
  return file.async('string');
}

/** The worksheet part (e.g. `xl/worksheets/sheet2.xml`) of the sheet named `name`. */
async function sheetPart(zip: JSZip, name: string): Promise<string> {
  const workbook = parseXml(await part(zip, 'xl/workbook.xml'));
  const sheet = descendants(workbook, 'sheet').find((s) => s.attributes.get('name') === name);
  if (!sheet) throw new Error(`workbook has no sheet named "${name}"`);
  const relId = sheet.attributes.get(`{${NS.rel}}id`);
  const rels = parseXml(await part(zip, 'xl/_rels/workbook.xml.rels'));
  const target = descendants(rels, 'Relationship')
    .find((r) => r.attributes.get('Id') === relId)
    ?.attributes.get('Target');
  if (!target) throw new Error(`workbook relationship ${relId} of sheet "${name}" is missing`);
  return target.startsWith('/') ? target.slice(1) : `xl/${target}`;
}

/** The little of the DOM that xmlbuilder2's parsed document offers and `withDrawing` uses. */
interface DomElement {
  nodeType: number;
  localName: string;
  childNodes: ArrayLike<DomElement>;
  ownerDocument: { createElementNS(ns: string, qualifiedName: string): DomElement };
  setAttributeNS(ns: string, qualifiedName: string, value: string): void;
  insertBefore(node: DomElement, before: DomElement | null): void;
}

/** Children of <worksheet> that must come after <drawing> (ECMA-376 CT_Worksheet sequence). */
const AFTER_DRAWING = new Set([
  'legacyDrawing',
  'legacyDrawingHF',
  'drawingHF',
  'picture',
  'oleObjects',
  'controls',
  'webPublishItems',
  'tableParts',
  'extLst',
]);

/** Inserts `<drawing r:id>` at its place in the sheet's element sequence. */
function withDrawing(sheetXml: string, relId: string): string {
  const doc = xmlbuilder().create(sheetXml);
  const root = doc.root().node as unknown as DomElement;
  const children = Array.from(root.childNodes);
  if (children.some((n) => n.localName === 'drawing'))
    throw new Error('sheet already has a drawing; charts are added once, after exceljs wrote the sheet');
  const drawing = root.ownerDocument.createElementNS(NS.main, 'drawing');
  drawing.setAttributeNS(NS.rel, 'r:id', relId);
  const before = children.find((n) => n.nodeType === 1 && AFTER_DRAWING.has(n.localName));
  root.insertBefore(drawing, before ?? null);
  return doc.end();
}

function nextRelId(relsXmlText: string | undefined): { ids: Set<string>; next: () => string } {
  const ids = new Set<string>();
  if (relsXmlText)
    for (const r of descendants(parseXml(relsXmlText), 'Relationship')) ids.add(r.attributes.get('Id') ?? '');
  let n = 1;
  return {
    ids,
    next: () => {
      while (ids.has(`rId${n}`)) n++;
      const id = `rId${n}`;
      ids.add(id);
      return id;
    },
  };
}

/**
 * Adds column charts to an XLSX written by exceljs and returns the new package. Charts on the
 * same sheet share one drawing. The result is checked with `checkXlsxPackage` before it is
 * returned, so a broken package fails here and never reaches the reports bucket.
 */
export async function addColumnCharts(xlsx: Uint8Array, charts: ColumnChartSpec[]): Promise<Buffer> {
  const zip = await JSZip.loadAsync(xlsx);
  const types = xmlbuilder().create(await part(zip, '[Content_Types].xml'));
  const typesRoot = types.root();
  const bySheet = new Map<string, ColumnChartSpec[]>();
  for (const c of charts) bySheet.set(c.sheet, [...(bySheet.get(c.sheet) ?? []), c]);
  let chartNo = Object.keys(zip.files).filter((f) => /^xl\/charts\/chart\d+\.xml$/.test(f)).length;
  let drawingNo = Object.keys(zip.files).filter((f) => /^xl\/drawings\/drawing\d+\.xml$/.test(f)).length;
  for (const [sheet, specs] of bySheet) {
    const sheetPath = await sheetPart(zip, sheet);
    const sheetDir = sheetPath.slice(0, sheetPath.lastIndexOf('/'));
    const sheetFile = sheetPath.slice(sheetPath.lastIndexOf('/') + 1);
    const sheetRelsPath = `${sheetDir}/_rels/${sheetFile}.rels`;
    const sheetRelsText = await zip.file(sheetRelsPath)?.async('string');
    const drawingPath = `xl/drawings/drawing${++drawingNo}.xml`;
    const drawingRels = nextRelId(undefined);
    const anchors: { spec: ColumnChartSpec; relId: string; target: string }[] = [];
    for (const spec of specs) {
      const chartPath = `xl/charts/chart${++chartNo}.xml`;
      zip.file(chartPath, chartXml(spec));
      typesRoot.ele('Override', { PartName: `/${chartPath}`, ContentType: CONTENT_TYPE.chart });
      anchors.push({ spec, relId: drawingRels.next(), target: `../charts/chart${chartNo}.xml` });
    }
    zip.file(drawingPath, drawingXml(anchors));
    zip.file(
      `xl/drawings/_rels/drawing${drawingNo}.xml.rels`,
      relsXml(anchors.map((a) => ({ id: a.relId, type: REL_TYPE.chart, target: a.target }))),
    );
    typesRoot.ele('Override', { PartName: `/${drawingPath}`, ContentType: CONTENT_TYPE.drawing });
    const sheetRels = nextRelId(sheetRelsText);
    const drawingRelId = sheetRels.next();
    const relEntry = {
      Id: drawingRelId,
      Type: REL_TYPE.drawing,
      Target: `../drawings/drawing${drawingNo}.xml`,
    };
    if (sheetRelsText) {
      const rels = xmlbuilder().create(sheetRelsText);
      rels.root().ele('Relationship', relEntry);
      zip.file(sheetRelsPath, rels.end());
    } else {
      zip.file(sheetRelsPath, relsXml([{ id: relEntry.Id, type: relEntry.Type, target: relEntry.Target }]));
    }
    zip.file(sheetPath, withDrawing(await part(zip, sheetPath), drawingRelId));
  }
  zip.file('[Content_Types].xml', types.end());
  const out = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  const { problems } = await checkXlsxPackage(out);
  if (problems.length > 0)
    throw new Error(`the XLSX with charts is not well-formed:\n${problems.join('\n')}`);
  return out;
}
