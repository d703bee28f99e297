import { Readable } from 'node:stream';
import { parseString } from '@fast-csv/parse';
import { describe, expect, it } from 'vitest';
import { CostFileError, type DailyCost, type SandboxAccount } from './types.js';
import { CostFileSource, parseCostFile } from './cost-file.js';
import { dailyCheck, forecastMonthEnd, type DailyCheckParams } from './daily-check.js';
import { monthlyCostCsv, monthlyCostRows } from '../reports/monthly-cost.js';
import { reportKey } from '../reports/report.js';

const HEADER =
  'identity/LineItemId,lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode';
const file = (lines: string[]) => Readable.from([lines.join('\n') + '\n']);

const params: DailyCheckParams = {
  baselineDays: 14,
  k: 4,
  minAbsolute: 5,
  minHistory: 5,
  budgetAmount: 300,
  alertPercentages: [80, 100],
};

function account(id: string, cc: string, ou: string): SandboxAccount {
  return {
    id,
    name: `sbx-${id.slice(-3)}`,
    organizationalUnit: ou,
    costCenter: cc,
    holder: 'alice',
    state: 'assigned',
    tags: {},
  };
}

function series(accountId: string, start: string, values: number[]): DailyCost[] {
  return values.map((amount, i) => ({
    accountId,
    day: new Date(Date.parse(start + 'T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10),
    amount,
    currency: 'USD',
  }));
}

describe('cost file (CUR CSV)', () => {
  it('sums unblended cost per account and day', async () => {
    const costs = await parseCostFile(
      file([
        HEADER,
        'a,111111111111,2026-11-01T00:00:00Z,1.25,USD',
        'b,111111111111,2026-11-01T05:00:00Z,2.50,USD',
        'c,222222222222,2026-11-02T00:00:00Z,"3.00",USD',
      ]),
    );
    expect(costs).toEqual([
      { accountId: '111111111111', day: '2026-11-01', amount: 3.75, currency: 'USD' },
      { accountId: '222222222222', day: '2026-11-02', amount: 3, currency: 'USD' },
    ]);
    const src = new CostFileSource(() =>
      file([
        HEADER,
        'a,111111111111,2026-11-01T00:00:00Z,1,USD',
        'b,111111111111,2026-11-03T00:00:00Z,1,USD',
      ]),
    );
    expect((await src.dailyCosts('2026-11-02', '2026-11-30')).map((c) => c.day)).toEqual(['2026-11-03']);
  });

  it('reports a bad date with its line number', async () => {
    const err = await parseCostFile(
      file([HEADER, 'a,111111111111,2026-11-01T00:00:00Z,1,USD', 'b,111111111111,yesterday,1,USD']),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CostFileError);
    expect((err as CostFileError).line).toBe(3);
    expect((err as Error).message).toMatch(/line 3: bad date "yesterday"/);
  });

  it('reports a missing column on the header line', async () => {
    const err = await parseCostFile(
      file(['lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/CurrencyCode']),
    ).catch((e: unknown) => e);
    expect((err as CostFileError).line).toBe(1);
    expect((err as Error).message).toMatch(/missing column "lineItem\/UnblendedCost"/);
  });

  it('reports a bad cost with its line number', async () => {
    await expect(parseCostFile(file([HEADER, 'a,111111111111,2026-11-01,abc,USD']))).rejects.toThrow(
      /line 2: bad cost "abc"/,
    );
  });
});

describe('daily check', () => {
  const now = new Date('2026-11-21T06:00:00Z'); // yesterday = 2026-11-20
  it('flags a spike', () => {
    const costs = series('111111111111', '2026-11-06', [
      ...Array<number>(14)
        .fill(10)
        .map((v, i) => v + (i % 3)),
      80,
    ]);
    const { exceptions } = dailyCheck([account('111111111111', 'cc1', 'ou1')], costs, now, {
      ...params,
      budgetAmount: 10_000,
    });
    expect(exceptions.map((e) => e.kind)).toEqual(['unusual-daily-spend']);
    expect(exceptions[0]!.amount).toBe(80);
  });

  it('does not flag steady growth', () => {
    const costs = series(
      '111111111111',
      '2026-11-06',
      Array.from({ length: 15 }, (_, i) => 10 + i * 1.5),
    );
    const { exceptions } = dailyCheck([account('111111111111', 'cc1', 'ou1')], costs, now, {
      ...params,
      budgetAmount: 10_000,
    });
    expect(exceptions).toEqual([]);
  });

  it('handles a new account with short history through the floor only', () => {
    const acc = [account('111111111111', 'cc1', 'ou1')];
    const quiet = dailyCheck(acc, series('111111111111', '2026-11-18', [1, 2, 4]), now, {
      ...params,
      budgetAmount: 10_000,
    });
    expect(quiet.exceptions).toEqual([]);
    expect(quiet.spend[0]!.threshold).toBe(params.minAbsolute);
    const loud = dailyCheck(acc, series('111111111111', '2026-11-18', [1, 2, 40]), now, {
      ...params,
      budgetAmount: 10_000,
    });
    expect(loud.exceptions.map((e) => e.kind)).toEqual(['unusual-daily-spend']);
  });

  it('alerts once on the day a budget percentage is crossed, and forecasts linearly', () => {
    // 20 days × 12 = 240 = 80 % of 300, crossed on day 20 (before: 228).
    const costs = series('111111111111', '2026-11-01', Array<number>(20).fill(12));
    const { exceptions, spend } = dailyCheck([account('111111111111', 'cc1', 'ou1')], costs, now, params);
    expect(exceptions.map((e) => [e.kind, e.threshold])).toEqual([['budget-threshold', 240]]);
    expect(spend[0]!.forecast).toBeCloseTo(360);
    expect(forecastMonthEnd(240, '2026-11-20')).toBeCloseTo(360);
    const next = dailyCheck(
      [account('111111111111', 'cc1', 'ou1')],
      series('111111111111', '2026-11-01', Array<number>(21).fill(12)),
      new Date('2026-11-22T00:00:00Z'),
      params,
    );
    expect(next.exceptions).toEqual([]);
  });
});

describe('monthly cost CSV', () => {
  it('parses back with totals that match the input', async () => {
    const accounts = [
      account('111111111111', 'cc1', 'ou-a'),
      account('222222222222', 'cc1', 'ou-b'),
      account('333333333333', 'cc2', 'ou-b'),
    ];
    const lines = [HEADER];
    let expected = 0;
    for (let d = 1; d <= 10; d++) {
      for (const [i, a] of accounts.entries()) {
        const v = ((d * (i + 1) * 37) % 11) + 0.13;
        expected += v;
        lines.push(`x,${a.id},2026-11-${String(d).padStart(2, '0')}T00:00:00Z,${v},USD`);
      }
    }
    const costs = await parseCostFile(file(lines));
    const csv = monthlyCostCsv(monthlyCostRows(accounts, costs, '2026-11', '2026-11-10'));
    const rows = await new Promise<Record<string, string>[]>((resolve, reject) => {
      const out: Record<string, string>[] = [];
      parseString<Record<string, string>, Record<string, string>>(csv, { headers: true })
        .on('data', (r: Record<string, string>) => out.push(r))
        .on('error', reject)
        .on('end', () => resolve(out));
    });
    const sum = (level: string) =>
      rows.filter((r) => r.level === level).reduce((s, r) => s + Number(r.cost), 0);
    expect(sum('account')).toBeCloseTo(expected, 1);
    expect(sum('cost_center')).toBeCloseTo(expected, 1);
    expect(sum('organizational_unit')).toBeCloseTo(expected, 1);
    expect(Number(rows.find((r) => r.level === 'total')!.cost)).toBeCloseTo(expected, 1);
    expect(Number(rows.find((r) => r.level === 'total')!.forecast)).toBeCloseTo(expected * 3, 0);
    expect(reportKey('cost', '2026-11', 'costs', 'csv')).toBe('reports/cost/2026-11/costs.csv');
  });
});
