import { monthEnd, monthForecasts, RunRateForecast } from '../spend/forecast.js';
import type { CostSource, ForecastSource } from '../spend/types.js';
import { activityReport, type ReportEvent } from './activity.js';
import { inventoryReport } from './inventory.js';
import { monthlyCostReport } from './monthly-cost.js';
import type { ReportAccount } from './report.js';
import { type ReportBucket, writeReport } from './report-bucket.js';

/*
 * What the sandbox service's jobs call: inputs gathered by the job (accounts, events, a cost
 * source), reports out to the bucket. Nothing here reads tables or AWS accounts itself.
 */

/** The weekly inventory of `now`'s UTC day. Returns the keys written. */
export async function produceWeeklyInventory(
  bucket: ReportBucket,
  accounts: ReportAccount[],
  now: Date,
): Promise<string[]> {
  return writeReport(bucket, await inventoryReport({ accounts, day: now.toISOString().slice(0, 10), now }));
}

export interface MonthlyReportsInput {
  bucket: ReportBucket;
  accounts: ReportAccount[];
  /** At least the month's events; others are ignored. */
  events: ReportEvent[];
  costs: CostSource;
  /** Cost Explorer's forecasts; without one, the run rate of the last seven billed days. */
  forecasts?: ForecastSource;
  /** `YYYY-MM`: usually the month that just ended. */
  month: string;
  now: Date;
}

/**
 * The monthly activity and cost reports of `month`. Cost is read up to yesterday (UTC) or the
 * month's end, whichever comes first; run inside the month the cost report is month-to-date with
 * a month-end forecast, run after it the month is final and the forecast is for the next month.
 */
export async function produceMonthlyReports(input: MonthlyReportsInput): Promise<string[]> {
  const yesterday = new Date(input.now.getTime() - 86_400_000).toISOString().slice(0, 10);
  const end = monthEnd(input.month);
  const lastDay = yesterday < end ? yesterday : end;
  const from = `${input.month}-01`;
  if (lastDay < from)
    throw new Error(`month ${input.month} has no billed day before ${input.now.toISOString()}`);
  // A week before the month too, for the run rate at its start.
  const weekBefore = new Date(Date.parse(from) - 7 * 86_400_000).toISOString().slice(0, 10);
  const costs = await input.costs.dailyCosts(weekBefore, lastDay);
  const forecasts = await monthForecasts(
    input.forecasts ?? new RunRateForecast(costs, lastDay),
    input.accounts.map((a) => a.id),
    costs,
    input.month,
    lastDay,
  );
  const keys = await writeReport(
    input.bucket,
    await activityReport({
      accounts: input.accounts,
      events: input.events,
      month: input.month,
      now: input.now,
    }),
  );
  keys.push(
    ...(await writeReport(
      input.bucket,
      await monthlyCostReport({
        accounts: input.accounts,
        costs,
        month: input.month,
        lastDay,
        forecasts: forecasts.monthEnd,
        nextMonthForecasts: forecasts.nextMonth,
        now: input.now,
      }),
    )),
  );
  return keys;
}
