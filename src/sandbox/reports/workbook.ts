import ExcelJS from 'exceljs';

/** A column of a report sheet: header, width in characters, and a number format for numbers. */
export interface SheetColumn {
  header: string;
  width?: number;
  numFmt?: string;
}

export const MONEY = '#,##0.00';

/** Adds a sheet with a bold, frozen header row and auto-filter; rows are written as given. */
export function addTableSheet(
  workbook: ExcelJS.Workbook,
  name: string,
  columns: SheetColumn[],
  rows: (string | number | null)[][],
): ExcelJS.Worksheet {
  const ws = workbook.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({
    header: c.header,
    width: c.width ?? Math.max(12, c.header.length + 2),
    ...(c.numFmt ? { style: { numFmt: c.numFmt } } : {}),
  }));
  ws.getRow(1).font = { bold: true };
  ws.addRows(rows);
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
  return ws;
}

/** A workbook with fixed creation dates, so the same input gives the same file. */
export function newWorkbook(created: Date): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'stups sandbox';
  wb.created = created;
  wb.modified = created;
  return wb;
}

export async function workbookBuffer(wb: ExcelJS.Workbook): Promise<Buffer> {
  return Buffer.from(await wb.xlsx.writeBuffer());
}
