import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { parseCostFile } from '../spend/cost-file.js';
import { monthForecasts, RunRateForecast } from '../spend/forecast.js';
import type { DailyCost } from '../spend/types.js';
import { COST_SHEETS, monthlyCostReport } from './monthly-cost.js';
import { NONE, type ReportAccount } from './report.js';
import { parseCsv, tenAccounts } from './test-support/fixtures.js';
import { checkXlsxPackage } from './xlsx-package.js';

const HEADER =
  'identity/LineItemId,lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode';

/** A CUR file for November 1..20 (and some October lines that must not count), through the real parser. */
async function novemberCosts(accounts: ReportAccount[]): Promise<{ costs: DailyCost[]; expected: number }> {
  const lines = [HEADER];
  let expected = 0;
  const ids = [...accounts.map((a) => a.id), '999999999999']; // the last one left the organization
  for (let d = 1; d <= 20; d++)
    ids.forEach((id, i) => {
      const v = ((d * (i + 3) * 37) % 13) + 0.17;
      expected += v;
      lines.push(`li-${d}-${i},${id},2026-11-${String(d).padStart(2, '0')}T00:00:00Z,${v},USD`);
    });
  lines.push(`old,${ids[0]},2026-10-31T00:00:00Z,1000,USD`);
  return { costs: await parseCostFile(Readable.from([lines.join('\n')])), expected };
}

describe('monthly cost report', () => {
  it('writes a CSV and an XLSX with charts whose totals match the input costs', async () => {
    const accounts = tenAccounts();
    const { costs, expected } = await novemberCosts(accounts);
    const ids = accounts.map((a) => a.id);
    const forecasts = await monthForecasts(
      new RunRateForecast(costs, '2026-11-20'),
      ids,
      costs,
      '2026-11',
      '2026-11-20',
    );
    const report = await monthlyCostReport({
      accounts,
      costs,
      month: '2026-11',
      lastDay: '2026-11-20',
      forecasts: forecasts.monthEnd,
      nextMonthForecasts: forecasts.nextMonth,
      now: new Date('2026-11-21T06:00:00Z'),
    });
    expect(report.kind).toBe('cost');
    expect(report.files.map((f) => `${f.name}.${f.ext}`)).toEqual(['costs.csv', 'costs.xlsx']);

    const rows = await parseCsv(report.files[0]!.body.toString());
    const sum = (level: string, col = 'cost') =>
      rows.filter((r) => r.level === level).reduce((s, r) => s + Number(r[col]), 0);
    expect(sum('account')).toBeCloseTo(expected, 1);
    expect(sum('cost_center')).toBeCloseTo(expected, 1);
    expect(sum('organizational_unit')).toBeCloseTo(expected, 1);
    expect(Number(rows.find((r) => r.level === 'total')!.cost)).toBeCloseTo(expected, 1);
    expect(rows.filter((r) => r.level === 'account')).toHaveLength(11);
    expect(rows.find((r) => r.key === '999999999999')).toMatchObject({
      cost_center: NONE,
      organizational_unit: NONE,
    });
    expect(rows.filter((r) => r.level === 'cost_center').map((r) => r.key)).toEqual([
      NONE,
      'cc-100',
      'cc-200',
      "cc-3'00",
    ]);
    expect(rows[0]!.currency).toBe('USD');
    // The month-end forecast and the next month's forecast are in the report, summed like the cost.
    expect(sum('account', 'forecast')).toBeCloseTo(
      Number(rows.find((r) => r.level === 'total')!.forecast),
      1,
    );
    expect(Number(rows.find((r) => r.level === 'total')!.forecast)).toBeGreaterThan(expected);
    expect(sum('cost_center', 'next_month_forecast')).toBeGreaterThan(0);

    const xlsx = report.files[1]!.body;
    const check = await checkXlsxPackage(xlsx);
    expect(check.problems).toEqual([]);
    expect(check.sheets).toEqual([COST_SHEETS.accounts, COST_SHEETS.costCenters, COST_SHEETS.units]);
    expect(check.charts.map((c) => [c.sheet, c.kind, c.references])).toEqual([
      [
        'Cost centres',
        ['barChart'],
        [
          "'Cost centres'!$B$1",
          "'Cost centres'!$A$2:$A$5",
          "'Cost centres'!$B$2:$B$5",
          "'Cost centres'!$C$1",
          "'Cost centres'!$A$2:$A$5",
          "'Cost centres'!$C$2:$C$5",
          "'Cost centres'!$D$1",
          "'Cost centres'!$A$2:$A$5",
          "'Cost centres'!$D$2:$D$5",
        ],
      ],
      [
        'Organizational units',
        ['barChart'],
        [
          "'Organizational units'!$B$1",
          "'Organizational units'!$A$2:$A$4",
          "'Organizational units'!$B$2:$B$4",
          "'Organizational units'!$C$1",
          "'Organizational units'!$A$2:$A$4",
          "'Organizational units'!$C$2:$C$4",
          "'Organizational units'!$D$1",
          "'Organizational units'!$A$2:$A$4",
          "'Organizational units'!$D$2:$D$4",
        ],
      ],
    ]);

    const wb = new ExcelJS.Workbook();
    // exceljs's typings predate Buffer<ArrayBufferLike>; it reads any Node Buffer.
    await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
    const cc = wb.getWorksheet(COST_SHEETS.costCenters)!;
    // The ranges the chart names hold the cost centres and their costs, and stop before the total row.
    const labels = [2, 3, 4, 5].map((r) => cc.getCell(`A${r}`).value);
    expect(labels).toEqual([NONE, 'cc-100', 'cc-200', "cc-3'00"]);
    const chartCost = [2, 3, 4, 5].reduce((s, r) => s + Number(cc.getCell(`B${r}`).value), 0);
    expect(chartCost).toBeCloseTo(expected, 1);
    expect(cc.getCell('A6').value).toBe('total');
    expect(Number(cc.getCell('B6').value)).toBeCloseTo(expected, 1);
    const acc = wb.getWorksheet(COST_SHEETS.accounts)!;
    let accountSum = 0;
    acc.eachRow((row, n) => {
      if (n > 1) accountSum += Number(row.getCell(6).value);
    });
    expect(accountSum).toBeCloseTo(expected, 1);
    const ou = wb.getWorksheet(COST_SHEETS.units)!;
    expect([2, 3, 4].map((r) => ou.getCell(`A${r}`).value)).toEqual([NONE, 'Data', 'Engineering']);
  });

  it('refuses costs in two currencies', async () => {
    const costs: DailyCost[] = [
      { accountId: '100000000001', day: '2026-11-01', amount: 1, currency: 'USD' },
      { accountId: '100000000002', day: '2026-11-01', amount: 1, currency: 'EUR' },
    ];
    await expect(
      monthlyCostReport({
        accounts: tenAccounts(),
        costs,
        month: '2026-11',
        lastDay: '2026-11-01',
        now: new Date(),
      }),
    ).rejects.toThrow('costs are in several currencies (EUR, USD); cannot add them up');
  });
});

describe('XLSX package check', () => {
  async function costXlsx(): Promise<Buffer> {
    const accounts = tenAccounts();
    const costs: DailyCost[] = accounts.map((a) => ({
      accountId: a.id,
      day: '2026-11-02',
      amount: 2,
      currency: 'USD',
    }));
    const r = await monthlyCostReport({
      accounts,
      costs,
      month: '2026-11',
      lastDay: '2026-11-30',
      now: new Date(0),
    });
    return r.files[1]!.body;
  }

  it('finds a missing chart part, an undeclared content type and XML that is not well-formed', async () => {
    const zip = await JSZip.loadAsync(await costXlsx());
    zip.remove('xl/charts/chart2.xml');
    zip.file('xl/media/extra.png', 'x');
    zip.file('xl/styles.xml', '<styleSheet><numFmts></styleSheet>');
    const { problems } = await checkXlsxPackage(await zip.generateAsync({ type: 'nodebuffer' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'content type override for missing part /xl/charts/chart2.xml',
        'xl/drawings/_rels/drawing2.xml.rels: relationship rId1 points at missing part xl/charts/chart2.xml',
        'part xl/media/extra.png has no content type',
        expect.stringMatching(/^xl\/styles\.xml: not well-formed XML: /),
      ]),
    );
  });

  it('finds a chart that refers to a sheet the workbook lacks', async () => {
    const zip = await JSZip.loadAsync(await costXlsx());
    const chart = await zip.file('xl/charts/chart1.xml')!.async('string');
    zip.file('xl/charts/chart1.xml', chart.replaceAll("'Cost centres'", "'Cost centers'"));
    const { problems } = await checkXlsxPackage(await zip.generateAsync({ type: 'nodebuffer' }));
    expect(problems).toContain(
      "xl/charts/chart1.xml: reference 'Cost centers'!$B$1 names no sheet of the workbook",
    );
  });
});
