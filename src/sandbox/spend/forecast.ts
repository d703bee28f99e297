import { forecastMonthEnd } from './daily-check.js';
import type { DailyCost, ForecastSource } from './types.js';

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);
}

/** Last day of the month `YYYY-MM`. */
export function monthEnd(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The month after `YYYY-MM`. */
export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
}

/**
 * Run rate when no forecast service is configured (the cost file): the mean daily cost of the
 * `window` days up to `asOf`, times the days forecast. Accounts without cost in the window get 0.
 */
export class RunRateForecast implements ForecastSource {
  constructor(
    private readonly costs: DailyCost[],
    private readonly asOf: string,
    private readonly window = 7,
  ) {}
  forecast(accountIds: string[], from: string, to: string): Promise<Map<string, number>> {
    const first = addDays(this.asOf, 1 - this.window);
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
    const out = new Map<string, number>();
    for (const id of accountIds) {
      let sum = 0;
      for (const c of this.costs)
        if (c.accountId === id && c.day >= first && c.day <= this.asOf) sum += c.amount;
      out.set(id, (sum / this.window) * days);
    }
    return Promise.resolve(out);
  }
}

export interface MonthForecasts {
  /** Month-end total of the report month per account: billed cost up to `asOf` plus forecast of the rest. */
  monthEnd: Map<string, number>;
  /** Whole following month per account. */
  nextMonth: Map<string, number>;
}

/**
 * Forecasts for the monthly cost report. `asOf` is the last billed day: inside the month the rest
 * of it is forecast by `source`; once the month is over the month-end figure is the cost itself.
 * An account the source has no forecast for falls back to the linear month-end forecast the daily
 * spend check uses (and to its run rate for the next month).
 */
export async function monthForecasts(
  source: ForecastSource,
  accountIds: string[],
  costs: DailyCost[],
  month: string,
  asOf: string,
): Promise<MonthForecasts> {
  const end = monthEnd(month);
  const last = asOf < end ? asOf : end;
  const mtd = new Map<string, number>();
  for (const c of costs)
    if (c.day.startsWith(month) && c.day <= last)
      mtd.set(c.accountId, (mtd.get(c.accountId) ?? 0) + c.amount);
  const monthEndOut = new Map<string, number>();
  const rest =
    last < end ? await source.forecast(accountIds, addDays(last, 1), end) : new Map<string, number>();
  for (const id of accountIds) {
    const billed = mtd.get(id) ?? 0;
    if (last >= end) monthEndOut.set(id, billed);
    else monthEndOut.set(id, rest.has(id) ? billed + rest.get(id)! : forecastMonthEnd(billed, last));
  }
  const next = nextMonth(month);
  const nextOut = await source.forecast(accountIds, next + '-01', monthEnd(next));
  const fallback = await new RunRateForecast(costs, last).forecast(accountIds, next + '-01', monthEnd(next));
  for (const id of accountIds) if (!nextOut.has(id)) nextOut.set(id, fallback.get(id) ?? 0);
  return { monthEnd: monthEndOut, nextMonth: nextOut };
}
