import { stringify } from 'csv-stringify/sync';
import type { DailyCost, SandboxAccount } from '../spend/types.js';
import { forecastMonthEnd } from '../spend/daily-check.js';

export interface CostRow {
  level: 'account' | 'cost_center' | 'organizational_unit' | 'total';
  key: string;
  costCenter: string;
  organizationalUnit: string;
  cost: number;
  forecast: number;
}

/** Monthly cost per account, per cost centre, per OU and in total, for month `YYYY-MM` up to `lastDay`. */
export function monthlyCostRows(
  accounts: SandboxAccount[],
  costs: DailyCost[],
  month: string,
  lastDay: string,
): CostRow[] {
  const perAccount = new Map<string, number>();
  for (const c of costs)
    if (c.day.startsWith(month) && c.day <= lastDay)
      perAccount.set(c.accountId, (perAccount.get(c.accountId) ?? 0) + c.amount);
  const rows: CostRow[] = [];
  const cc = new Map<string, number>();
  const ou = new Map<string, number>();
  let total = 0;
  for (const a of [...accounts].sort((x, y) => x.id.localeCompare(y.id))) {
    const cost = round(perAccount.get(a.id) ?? 0);
    rows.push({
      level: 'account',
      key: a.id,
      costCenter: a.costCenter,
      organizationalUnit: a.organizationalUnit,
      cost,
      forecast: round(forecastMonthEnd(cost, lastDay)),
    });
    cc.set(a.costCenter, (cc.get(a.costCenter) ?? 0) + cost);
    ou.set(a.organizationalUnit, (ou.get(a.organizationalUnit) ?? 0) + cost);
    total += cost;
  }
  for (const [k, v] of [...cc].sort())
    rows.push({
      level: 'cost_center',
      key: k,
      costCenter: k,
      organizationalUnit: '',
      cost: round(v),
      forecast: round(forecastMonthEnd(v, lastDay)),
    });
  for (const [k, v] of [...ou].sort())
    rows.push({
      level: 'organizational_unit',
      key: k,
      costCenter: '',
      organizationalUnit: k,
      cost: round(v),
      forecast: round(forecastMonthEnd(v, lastDay)),
    });
  rows.push({
    level: 'total',
    key: 'total',
    costCenter: '',
    organizationalUnit: '',
    cost: round(total),
    forecast: round(forecastMonthEnd(total, lastDay)),
  });
  return rows;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

export function monthlyCostCsv(rows: CostRow[]): string {
  return stringify(
    rows.map((r) => [
      r.level,
      r.key,
      r.costCenter,
      r.organizationalUnit,
      r.cost.toFixed(2),
      r.forecast.toFixed(2),
    ]),
    { header: true, columns: ['level', 'key', 'cost_center', 'organizational_unit', 'cost', 'forecast'] },
  );
}

/** Where a report lives in the reports bucket. */
export function reportKey(
  kind: 'inventory' | 'activity' | 'cost',
  period: string,
  ext: 'csv' | 'xlsx',
): string {
  return `reports/${kind}/${period}.${ext}`;
}
