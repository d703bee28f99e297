import { stringify } from 'csv-stringify/sync';
import type { DailyCost } from '../spend/types.js';
import { forecastMonthEnd } from '../spend/daily-check.js';
import { monthEnd, nextMonth } from '../spend/forecast.js';
import { NONE, type Report, type ReportAccount } from './report.js';
import { addColumnCharts, type ColumnChartSpec } from './xlsx-chart.js';
import { addTableSheet, MONEY, newWorkbook, workbookBuffer } from './workbook.js';

export interface CostRow {
  level: 'account' | 'cost_center' | 'organizational_unit' | 'total';
  key: string;
  name: string;
  holder: string;
  costCenter: string;
  organizationalUnit: string;
  cost: number;
  /** Month-end total of the report month (equal to `cost` once the month is over). */
  forecast: number;
  /** Forecast of the whole following month; absent when no forecast was given for it. */
  nextMonthForecast?: number;
}

export interface MonthlyCostOptions {
  /** Month-end forecast per account (see spend/forecast.ts); the linear forecast where missing. */
  forecasts?: Map<string, number>;
  /** Forecast of the next month per account. */
  nextMonthForecasts?: Map<string, number>;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The single currency of `costs`; a report that mixed currencies would add them up wrongly. */
export function currencyOf(costs: DailyCost[]): string {
  const all = new Set(costs.map((c) => c.currency));
  if (all.size > 1)
    throw new Error(`costs are in several currencies (${[...all].sort().join(', ')}); cannot add them up`);
  return [...all][0] ?? 'USD';
}

/**
 * Monthly cost per account, per cost centre, per OU and in total, for month `YYYY-MM` up to
 * `lastDay`. Cost of an account that is not (or no longer) in `accounts` is kept, under cost centre
 * and OU `(none)`, so that the totals always equal the input costs.
 */
export function monthlyCostRows(
  accounts: ReportAccount[],
  costs: DailyCost[],
  month: string,
  lastDay: string,
  options: MonthlyCostOptions = {},
): CostRow[] {
  const last = lastDay < monthEnd(month) ? lastDay : monthEnd(month);
  const perAccount = new Map<string, number>();
  for (const c of costs)
    if (c.day.startsWith(month) && c.day <= last)
      perAccount.set(c.accountId, (perAccount.get(c.accountId) ?? 0) + c.amount);
  const known = new Map(accounts.map((a) => [a.id, a]));
  const all: ReportAccount[] = [...accounts];
  for (const id of perAccount.keys())
    if (!known.has(id))
      all.push({ id, name: '', organizationalUnit: NONE, costCenter: NONE, holder: '', state: '', tags: {} });
  const withNext = options.nextMonthForecasts !== undefined;
  const rows: CostRow[] = [];
  type Sum = { cost: number; forecast: number; next: number };
  const add = (m: Map<string, Sum>, k: string, r: CostRow) => {
    const s = m.get(k) ?? { cost: 0, forecast: 0, next: 0 };
    s.cost += r.cost;
    s.forecast += r.forecast;
    s.next += r.nextMonthForecast ?? 0;
    m.set(k, s);
  };
  const cc = new Map<string, Sum>();
  const ou = new Map<string, Sum>();
  const total = new Map<string, Sum>();
  for (const a of all.sort((x, y) => x.id.localeCompare(y.id))) {
    const cost = round(perAccount.get(a.id) ?? 0);
    const row: CostRow = {
      level: 'account',
      key: a.id,
      name: a.name,
      holder: a.holder,
      costCenter: a.costCenter || NONE,
      organizationalUnit: a.organizationalUnit || NONE,
      cost,
      forecast: round(options.forecasts?.get(a.id) ?? forecastMonthEnd(cost, last)),
      ...(withNext ? { nextMonthForecast: round(options.nextMonthForecasts?.get(a.id) ?? 0) } : {}),
    };
    rows.push(row);
    add(cc, row.costCenter, row);
    add(ou, row.organizationalUnit, row);
    add(total, 'total', row);
  }
  const summary = (level: CostRow['level'], m: Map<string, Sum>) => {
    for (const [k, s] of [...m].sort(([a], [b]) => a.localeCompare(b)))
      rows.push({
        level,
        key: k,
        name: '',
        holder: '',
        costCenter: level === 'cost_center' ? k : '',
        organizationalUnit: level === 'organizational_unit' ? k : '',
        cost: round(s.cost),
        forecast: round(s.forecast),
        ...(withNext ? { nextMonthForecast: round(s.next) } : {}),
      });
  };
  summary('cost_center', cc);
  summary('organizational_unit', ou);
  summary('total', total.size ? total : new Map([['total', { cost: 0, forecast: 0, next: 0 }]]));
  return rows;
}

/** The CSV for show-back and charge-back software: one row per account, cost centre, OU and the total. */
export function monthlyCostCsv(rows: CostRow[], currency = 'USD'): string {
  const withNext = rows.some((r) => r.nextMonthForecast !== undefined);
  return stringify(
    rows.map((r) => [
      r.level,
      r.key,
      r.name,
      r.holder,
      r.costCenter,
      r.organizationalUnit,
      currency,
      r.cost.toFixed(2),
      r.forecast.toFixed(2),
      ...(withNext ? [(r.nextMonthForecast ?? 0).toFixed(2)] : []),
    ]),
    {
      header: true,
      columns: [
        'level',
        'key',
        'name',
        'holder',
        'cost_center',
        'organizational_unit',
        'currency',
        'cost',
        'forecast',
        ...(withNext ? ['next_month_forecast'] : []),
      ],
    },
  );
}

export const COST_SHEETS = {
  accounts: 'Accounts',
  costCenters: 'Cost centres',
  units: 'Organizational units',
} as const;

/**
 * The workbook for managers of the service and of cost centres: accounts, then one sheet per
 * cost centre and per OU with a column chart of cost and forecast beside the table.
 */
export async function monthlyCostXlsx(
  rows: CostRow[],
  month: string,
  currency: string,
  created: Date,
): Promise<Buffer> {
  const withNext = rows.some((r) => r.nextMonthForecast !== undefined);
  const money = (h: string) => ({ header: `${h} (${currency})`, width: 18, numFmt: MONEY });
  const figures = (r: CostRow) => [r.cost, r.forecast, ...(withNext ? [r.nextMonthForecast ?? 0] : [])];
  const figureColumns = [
    money(`cost ${month}`),
    money(`forecast ${month}`),
    ...(withNext ? [money(`forecast ${nextMonth(month)}`)] : []),
  ];
  const wb = newWorkbook(created);
  addTableSheet(
    wb,
    COST_SHEETS.accounts,
    [
      { header: 'account', width: 15 },
      { header: 'name', width: 20 },
      { header: 'holder', width: 16 },
      { header: 'cost centre', width: 16 },
      { header: 'organizational unit', width: 22 },
      ...figureColumns,
    ],
    rows
      .filter((r) => r.level === 'account')
      .map((r) => [r.key, r.name, r.holder, r.costCenter, r.organizationalUnit, ...figures(r)]),
  );
  const charts: ColumnChartSpec[] = [];
  for (const [sheet, level, label] of [
    [COST_SHEETS.costCenters, 'cost_center', 'cost centre'],
    [COST_SHEETS.units, 'organizational_unit', 'organizational unit'],
  ] as const) {
    const group = rows.filter((r) => r.level === level);
    const ws = addTableSheet(
      wb,
      sheet,
      [{ header: label, width: 22 }, ...figureColumns],
      group.map((r) => [r.key, ...figures(r)]),
    );
    const totalRow = ws.addRow(['total', ...figures(rows.find((r) => r.level === 'total')!)]);
    totalRow.font = { bold: true };
    if (group.length === 0) continue;
    const columns = ['B', 'C', 'D'].slice(0, figureColumns.length);
    charts.push({
      sheet,
      title: `Cost per ${label}, ${month} (${currency})`,
      categoryColumn: 'A',
      firstRow: 2,
      categories: group.map((r) => r.key),
      series: columns.map((column, i) => ({
        column,
        name: figureColumns[i]!.header,
        values: group.map((r) => figures(r)[i]!),
      })),
      anchor: { fromCol: figureColumns.length + 2, fromRow: 1, toCol: figureColumns.length + 11, toRow: 22 },
    });
  }
  return addColumnCharts(await workbookBuffer(wb), charts);
}

export interface MonthlyCostInput extends MonthlyCostOptions {
  accounts: ReportAccount[];
  costs: DailyCost[];
  /** `YYYY-MM`. */
  month: string;
  /** Last billed day included (`YYYY-MM-DD`); the month's last day for a closed month. */
  lastDay: string;
  /** Stamped into the workbook's properties. */
  now: Date;
}

/** The monthly cost report: `costs.csv` and `costs.xlsx` (with charts per cost centre and per OU). */
export async function monthlyCostReport(input: MonthlyCostInput): Promise<Report> {
  const inMonth = input.costs.filter((c) => c.day.startsWith(input.month));
  const currency = currencyOf(inMonth);
  const rows = monthlyCostRows(input.accounts, input.costs, input.month, input.lastDay, input);
  return {
    kind: 'cost',
    period: input.month,
    files: [
      { name: 'costs', ext: 'csv', body: Buffer.from(monthlyCostCsv(rows, currency)) },
      { name: 'costs', ext: 'xlsx', body: await monthlyCostXlsx(rows, input.month, currency, input.now) },
    ],
  };
}
