import type { DailyCost, SandboxAccount } from './types.js';

export interface DailyCheckParams {
  /** Trailing days that form the baseline (yesterday excluded). */
  baselineDays: number;
  /** How many scaled MADs above the median count as unusual. */
  k: number;
  /** Absolute floor: a cost below this is never unusual (cents-level noise on idle accounts). */
  minAbsolute: number;
  /** Fewer baseline days than this: only the floor applies (new accounts). */
  minHistory: number;
  /** Monthly budget per account and the alert percentages (e.g. [80, 100]). */
  budgetAmount: number;
  alertPercentages: number[];
}

export interface BudgetAlertException {
  accountId: string;
  kind: 'unusual-daily-spend' | 'budget-threshold';
  day: string;
  amount: number;
  threshold: number;
  message: string;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median + k·MAD (scaled by 1.4826 to match a standard deviation on normal data): one earlier
 * spike does not inflate the baseline as it would a mean/stddev, and steady growth moves the
 * median with it. The trend is followed by comparing against the trailing window only.
 */
export function unusualThreshold(history: number[], p: DailyCheckParams): number {
  if (history.length < p.minHistory) return p.minAbsolute;
  const med = median(history);
  const mad = 1.4826 * median(history.map((v) => Math.abs(v - med)));
  // A flat history has MAD 0; 10 % of the median keeps a tiny change from alarming.
  return Math.max(p.minAbsolute, med + p.k * Math.max(mad, 0.1 * med));
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);
}

/** Linear forecast: month-to-date cost / days elapsed × days in month. */
export function forecastMonthEnd(monthToDate: number, day: string): number {
  const d = new Date(day + 'T00:00:00Z');
  const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  return (monthToDate / d.getUTCDate()) * daysInMonth;
}

export interface AccountSpend {
  accountId: string;
  yesterday: number;
  monthToDate: number;
  forecast: number;
  threshold: number;
}

/** Runs the daily check for `now`'s yesterday (UTC); returns spend per account and the exceptions. */
export function dailyCheck(
  accounts: SandboxAccount[],
  costs: DailyCost[],
  now: Date,
  p: DailyCheckParams,
): { spend: AccountSpend[]; exceptions: BudgetAlertException[] } {
  const yesterday = addDays(now.toISOString().slice(0, 10), -1);
  const first = yesterday.slice(0, 8) + '01';
  const spend: AccountSpend[] = [];
  const exceptions: BudgetAlertException[] = [];
  for (const account of accounts) {
    const byDay = new Map<string, number>();
    for (const c of costs)
      if (c.accountId === account.id) byDay.set(c.day, (byDay.get(c.day) ?? 0) + c.amount);
    const history: number[] = [];
    for (let i = p.baselineDays; i >= 1; i--) {
      const v = byDay.get(addDays(yesterday, -i));
      if (v !== undefined) history.push(v);
    }
    const y = byDay.get(yesterday) ?? 0;
    const threshold = unusualThreshold(history, p);
    if (y > threshold) {
      exceptions.push({
        accountId: account.id,
        kind: 'unusual-daily-spend',
        day: yesterday,
        amount: y,
        threshold,
        message: `${account.name}: ${y.toFixed(2)} on ${yesterday} is above ${threshold.toFixed(2)}`,
      });
    }
    let mtd = 0;
    let before = 0;
    for (const [day, v] of byDay) {
      if (day >= first && day <= yesterday) mtd += v;
      if (day >= first && day < yesterday) before += v;
    }
    // Only the crossing day alerts: before yesterday below the line, now at or above it.
    for (const pct of p.alertPercentages) {
      const line = (p.budgetAmount * pct) / 100;
      if (before < line && mtd >= line) {
        exceptions.push({
          accountId: account.id,
          kind: 'budget-threshold',
          day: yesterday,
          amount: mtd,
          threshold: line,
          message: `${account.name}: month-to-date ${mtd.toFixed(2)} crossed ${pct}% of budget ${p.budgetAmount}`,
        });
      }
    }
    spend.push({
      accountId: account.id,
      yesterday: y,
      monthToDate: mtd,
      forecast: forecastMonthEnd(mtd, yesterday),
      threshold,
    });
  }
  return { spend, exceptions };
}
