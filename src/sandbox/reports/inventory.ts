import { stringify } from 'csv-stringify/sync';
import { NONE, type Report, type ReportAccount } from './report.js';
import { addColumnCharts } from './xlsx-chart.js';
import { addTableSheet, newWorkbook, workbookBuffer } from './workbook.js';

export const INVENTORY_DIMENSIONS = ['state', 'organizational_unit', 'cost_center', 'holder'] as const;
export type InventoryDimension = (typeof INVENTORY_DIMENSIONS)[number];

export interface InventoryCount {
  dimension: InventoryDimension;
  key: string;
  accounts: number;
}

function valueOf(a: ReportAccount, d: InventoryDimension): string {
  const v = {
    state: a.state,
    organizational_unit: a.organizationalUnit,
    cost_center: a.costCenter,
    holder: a.holder,
  }[d];
  return v || NONE;
}

/** Accounts per state, per OU, per cost centre and per holder; each dimension adds up to all accounts. */
export function inventoryCounts(accounts: ReportAccount[]): InventoryCount[] {
  const out: InventoryCount[] = [];
  for (const dimension of INVENTORY_DIMENSIONS) {
    const m = new Map<string, number>();
    for (const a of accounts) m.set(valueOf(a, dimension), (m.get(valueOf(a, dimension)) ?? 0) + 1);
    for (const [key, n] of [...m].sort(([x], [y]) => x.localeCompare(y)))
      out.push({ dimension, key, accounts: n });
  }
  return out;
}

const ACCOUNT_COLUMNS = [
  'account',
  'name',
  'email',
  'state',
  'state_since',
  'organizational_unit',
  'cost_center',
  'holder',
  'last_purge',
] as const;

function accountCells(a: ReportAccount): string[] {
  return [
    a.id,
    a.name,
    a.email ?? '',
    a.state,
    a.stateSince ?? '',
    a.organizationalUnit || NONE,
    a.costCenter || NONE,
    a.holder,
    a.lastPurge ?? '',
  ];
}

export interface InventoryInput {
  accounts: ReportAccount[];
  /** The day the inventory was taken (`YYYY-MM-DD`), the report's period. */
  day: string;
  now: Date;
}

/**
 * The weekly inventory: `accounts.csv` (one line per account, to find unused accounts and accounts
 * never released), `summary.csv` (accounts per state, OU, cost centre, holder) and `inventory.xlsx`
 * with both and a chart of accounts per state.
 */
export async function inventoryReport(input: InventoryInput): Promise<Report> {
  const accounts = [...input.accounts].sort((x, y) => x.id.localeCompare(y.id));
  const counts = inventoryCounts(accounts);
  const accountsCsv = stringify(accounts.map(accountCells), { header: true, columns: [...ACCOUNT_COLUMNS] });
  const summaryCsv = stringify(
    counts.map((c) => [c.dimension, c.key, c.accounts]),
    { header: true, columns: ['dimension', 'key', 'accounts'] },
  );
  const wb = newWorkbook(input.now);
  addTableSheet(
    wb,
    'Accounts',
    ACCOUNT_COLUMNS.map((h) => ({ header: h.replace(/_/g, ' '), width: h === 'email' ? 28 : 18 })),
    accounts.map(accountCells),
  );
  const perState = counts.filter((c) => c.dimension === 'state');
  addTableSheet(
    wb,
    'Summary',
    [{ header: 'dimension', width: 20 }, { header: 'key', width: 24 }, { header: 'accounts' }],
    counts.map((c) => [c.dimension.replace(/_/g, ' '), c.key, c.accounts]),
  );
  const xlsx = await workbookBuffer(wb);
  const withChart =
    perState.length === 0
      ? xlsx
      : await addColumnCharts(xlsx, [
          {
            sheet: 'Summary',
            title: `Accounts per state, ${input.day}`,
            // The state rows come first in the summary, so they form one block from row 2.
            categoryColumn: 'B',
            firstRow: 2,
            categories: perState.map((c) => c.key),
            series: [{ column: 'C', name: 'accounts', values: perState.map((c) => c.accounts) }],
            anchor: { fromCol: 4, fromRow: 1, toCol: 12, toRow: 20 },
          },
        ]);
  return {
    kind: 'inventory',
    period: input.day,
    files: [
      { name: 'accounts', ext: 'csv', body: Buffer.from(accountsCsv) },
      { name: 'summary', ext: 'csv', body: Buffer.from(summaryCsv) },
      { name: 'inventory', ext: 'xlsx', body: withChart },
    ],
  };
}
