import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../platform/aws/client-config.js';
import type { SandboxAccount as ContractAccount } from '../contract.js';
import { activityReport, type ReportEvent } from './activity.js';
import { parseCsv, tenAccounts } from './test-support/fixtures.js';
import { inventoryReport } from './inventory.js';
import { monthlyCostReport } from './monthly-cost.js';
import { NONE, reportAccount, reportKey } from './report.js';
import { folderReportBucket, s3ReportBucket, writeReport } from './report-bucket.js';
import { produceMonthlyReports, produceWeeklyInventory } from './produce.js';
import { CostFileSource } from '../spend/cost-file.js';
import { Readable } from 'node:stream';
import { checkXlsxPackage } from './xlsx-package.js';

async function readXlsx(body: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  // exceljs's typings predate Buffer<ArrayBufferLike>; it reads any Node Buffer.
  await wb.xlsx.load(body as unknown as ArrayBuffer);
  return wb;
}

function sheetRows(wb: ExcelJS.Workbook, name: string): unknown[][] {
  const out: unknown[][] = [];
  wb.getWorksheet(name)!.eachRow((row, n) => {
    if (n > 1) out.push((row.values as unknown[]).slice(1));
  });
  return out;
}

describe('weekly inventory report', () => {
  it('lists every account and counts them per state, OU, cost centre and holder', async () => {
    const accounts = tenAccounts();
    accounts[4] = { ...accounts[4]!, holder: '', stateSince: '2026-11-02T08:00:00.000Z' };
    const report = await inventoryReport({
      accounts,
      day: '2026-11-23',
      now: new Date('2026-11-23T05:00:00Z'),
    });
    expect(report.files.map((f) => reportKey(report.kind, report.period, f.name, f.ext))).toEqual([
      'reports/inventory/2026-11-23/accounts.csv',
      'reports/inventory/2026-11-23/summary.csv',
      'reports/inventory/2026-11-23/inventory.xlsx',
    ]);
    const listed = await parseCsv(report.files[0]!.body.toString());
    expect(listed.map((r) => r.account)).toEqual(accounts.map((a) => a.id));
    expect(listed[4]).toMatchObject({ state_since: '2026-11-02T08:00:00.000Z', holder: '' });
    const summary = await parseCsv(report.files[1]!.body.toString());
    for (const d of ['state', 'organizational_unit', 'cost_center', 'holder'])
      expect(summary.filter((r) => r.dimension === d).reduce((s, r) => s + Number(r.accounts), 0)).toBe(10);
    expect(summary.filter((r) => r.dimension === 'state').map((r) => [r.key, r.accounts])).toEqual([
      ['assigned', '6'],
      ['purged', '2'],
      ['released', '2'],
    ]);
    expect(summary.find((r) => r.dimension === 'holder' && r.key === NONE)?.accounts).toBe('1');

    const xlsx = report.files[2]!.body;
    const check = await checkXlsxPackage(xlsx);
    expect(check.problems).toEqual([]);
    expect(check.charts.map((c) => [c.sheet, c.references])).toEqual([
      ['Summary', ["'Summary'!$C$1", "'Summary'!$B$2:$B$4", "'Summary'!$C$2:$C$4"]],
    ]);
    const wb = await readXlsx(xlsx);
    expect(sheetRows(wb, 'Accounts')).toHaveLength(10);
    expect(sheetRows(wb, 'Summary').slice(0, 3)).toEqual([
      ['state', 'assigned', 6],
      ['state', 'purged', 2],
      ['state', 'released', 2],
    ]);
  });

  it('adapts the sandbox service account record', () => {
    const record: ContractAccount = {
      id: '100000000001',
      name: 'sandbox-1',
      email: 'sandbox-1@example.org',
      organizational_unit: 'ou-ab12-cd34ef56',
      organizational_unit_name: 'Engineering',
      state: 'released',
      holder: null,
      cost_center: null,
      tags: { 'account-state': 'released' },
      state_timestamps: { purged: '2026-11-01T02:00:00.000Z', released: '2026-11-01T03:00:00.000Z' },
    };
    expect(reportAccount(record)).toEqual({
      id: '100000000001',
      name: 'sandbox-1',
      email: 'sandbox-1@example.org',
      organizationalUnit: 'Engineering',
      costCenter: NONE,
      holder: '',
      state: 'released',
      tags: { 'account-state': 'released' },
      stateSince: '2026-11-01T03:00:00.000Z',
      lastPurge: '2026-11-01T02:00:00.000Z',
    });
  });
});

/** November's events: a maintenance window for three accounts, assignments, a budget alert, and October noise. */
function novemberEvents(): ReportEvent[] {
  const ev = (account_id: string, kind: string, occurred_at: string): ReportEvent => ({
    account_id,
    kind,
    occurred_at,
    message: `${kind} for ${account_id}`,
  });
  const out: ReportEvent[] = [ev('100000000001', 'AssignedAccount', '2026-10-31T23:59:59.000Z')];
  for (const id of ['100000000002', '100000000004', '100000000007']) {
    out.push(ev(id, 'ExpiredAccount', '2026-11-07T02:00:00.000Z'));
    out.push(ev(id, 'PurgedAccount', '2026-11-07T02:10:00.000Z'));
    out.push(ev(id, 'PreparedAccount', '2026-11-07T02:20:00.000Z'));
    out.push(ev(id, 'ReleasedAccount', '2026-11-07T02:30:00.000Z'));
  }
  out.push(ev('100000000002', 'AssignedAccount', '2026-11-09T09:00:00.000Z'));
  out.push(ev('100000000007', 'AssignedAccount', '2026-11-30T23:59:59.000Z'));
  out.push(ev('100000000003', 'BudgetAlertException', '2026-11-12T06:00:00.000Z'));
  out.push(ev('100000000007', 'ConsoleLoginWithRootException', '2026-11-13T11:00:00.000Z'));
  out.push(ev('100000000008', 'FailedMaintenanceException', '2026-11-14T02:00:00.000Z'));
  return out;
}

describe('monthly activity report', () => {
  it('counts the month’s events per account, per OU and in total', async () => {
    const report = await activityReport({
      accounts: tenAccounts(),
      events: novemberEvents(),
      month: '2026-11',
      now: new Date('2026-12-01T04:00:00Z'),
    });
    expect(report.files.map((f) => `${f.name}.${f.ext}`)).toEqual([
      'events.csv',
      'summary.csv',
      'activity.xlsx',
    ]);
    const events = await parseCsv(report.files[0]!.body.toString());
    expect(events).toHaveLength(17); // the October assignment is not in November's report
    expect(events[0]).toMatchObject({ account: '100000000002', kind: 'ExpiredAccount', activity: 'expired' });
    const summary = await parseCsv(report.files[1]!.body.toString());
    const total = summary.find((r) => r.level === 'total')!;
    expect(total).toMatchObject({
      created: '0',
      assigned: '2',
      released: '3',
      expired: '3',
      purged: '3',
      prepared: '3',
      exceptions: '3',
    });
    expect(summary.filter((r) => r.level === 'account')).toHaveLength(10);
    expect(summary.find((r) => r.key === '100000000001')).toMatchObject({ assigned: '0' });
    // Accounts 1-6 are in Engineering, 7-10 in Data.
    expect(summary.find((r) => r.level === 'organizational_unit' && r.key === 'Data')).toMatchObject({
      assigned: '1',
      purged: '1',
      exceptions: '2',
    });
    expect(summary.find((r) => r.level === 'organizational_unit' && r.key === 'Engineering')).toMatchObject({
      assigned: '1',
      purged: '2',
      exceptions: '1',
    });
    const xlsx = report.files[2]!.body;
    expect((await checkXlsxPackage(xlsx)).problems).toEqual([]);
    const wb = await readXlsx(xlsx);
    expect(sheetRows(wb, 'Events')).toHaveLength(17);
    expect(sheetRows(wb, 'Per organizational unit').at(-1)).toEqual(['total', 0, 2, 3, 3, 3, 3, 3]);
  });

  it('refuses an event kind it does not know', async () => {
    await expect(
      activityReport({
        accounts: tenAccounts(),
        events: [
          {
            account_id: '100000000001',
            kind: 'MovedAccount',
            message: '',
            occurred_at: '2026-11-02T00:00:00Z',
          },
        ],
        month: '2026-11',
        now: new Date(),
      }),
    ).rejects.toThrow('event kind "MovedAccount" of account 100000000001 is not one the report knows');
  });
});

describe('reports bucket', () => {
  let dir: string;
  let server: S3rver;
  let client: S3Client;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-reports-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'sandbox-reports' }],
    });
    const { port } = await server.run();
    client = new S3Client({
      ...awsClientConfig({ region: 'eu-central-1', endpoint: `http://127.0.0.1:${port}` }, 's3'),
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function allReports() {
    const accounts = tenAccounts();
    const costs = accounts.map((a, i) => ({
      accountId: a.id,
      day: '2026-11-03',
      amount: i + 1,
      currency: 'USD',
    }));
    const now = new Date('2026-12-01T04:00:00Z');
    return [
      await inventoryReport({ accounts, day: '2026-11-30', now }),
      await activityReport({ accounts, events: novemberEvents(), month: '2026-11', now }),
      await monthlyCostReport({ accounts, costs, month: '2026-11', lastDay: '2026-11-30', now }),
    ];
  }

  it('writes every report to S3 under reports/<kind>/<period>/ with its content type', async () => {
    const bucket = s3ReportBucket(client, 'sandbox-reports');
    const written: string[] = [];
    for (const r of await allReports()) written.push(...(await writeReport(bucket, r)));
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: 'sandbox-reports', Prefix: 'reports/' }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([...written].sort());
    expect(written).toEqual([
      'reports/inventory/2026-11-30/accounts.csv',
      'reports/inventory/2026-11-30/summary.csv',
      'reports/inventory/2026-11-30/inventory.xlsx',
      'reports/activity/2026-11/events.csv',
      'reports/activity/2026-11/summary.csv',
      'reports/activity/2026-11/activity.xlsx',
      'reports/cost/2026-11/costs.csv',
      'reports/cost/2026-11/costs.xlsx',
    ]);
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'sandbox-reports', Key: 'reports/cost/2026-11/costs.xlsx' }),
    );
    expect(got.ContentType).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const body = Buffer.from(await got.Body!.transformToByteArray());
    expect((await checkXlsxPackage(body)).charts).toHaveLength(2);
    const costs = sheetRows(await readXlsx(body), 'Cost centres');
    expect(costs.at(-1)?.slice(0, 2)).toEqual(['total', 55]);
    expect(s3ReportBucket(client, 'sandbox-reports').locationOf('reports/x')).toBe(
      's3://sandbox-reports/reports/x',
    );
  });

  it('writes the same files into a folder on the embedded default', async () => {
    const folder = join(dir, 'folder');
    const bucket = folderReportBucket(folder);
    for (const r of await allReports()) await writeReport(bucket, r);
    expect((await readdir(join(folder, 'reports/cost/2026-11'))).sort()).toEqual(['costs.csv', 'costs.xlsx']);
    const csv = await parseCsv(await readFile(join(folder, 'reports/cost/2026-11/costs.csv'), 'utf8'));
    expect(csv.find((r) => r.level === 'total')?.cost).toBe('55.00');
    await expect(bucket.put('../escape.csv', Buffer.from('x'), 'text/csv')).rejects.toThrow(
      'report key "../escape.csv" leaves the reports folder',
    );
  });
});

describe('reports as the jobs produce them', () => {
  it('writes the inventory and, from the cost file, the closed month with the next month forecast', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-produce-'));
    try {
      const bucket = folderReportBucket(dir);
      const accounts = tenAccounts();
      const lines = [
        'lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode',
      ];
      // 2 a day for every account through November, 3 a day on its last seven days: run rate 3.
      for (let d = 1; d <= 30; d++)
        for (const a of accounts)
          lines.push(`${a.id},2026-11-${String(d).padStart(2, '0')}T00:00:00Z,${d > 23 ? 3 : 2},USD`);
      const costs = new CostFileSource(() => Readable.from([lines.join('\n')]));
      const now = new Date('2026-12-01T03:00:00Z');
      expect(await produceWeeklyInventory(bucket, accounts, now)).toEqual([
        'reports/inventory/2026-12-01/accounts.csv',
        'reports/inventory/2026-12-01/summary.csv',
        'reports/inventory/2026-12-01/inventory.xlsx',
      ]);
      const keys = await produceMonthlyReports({
        bucket,
        accounts,
        events: novemberEvents(),
        costs,
        month: '2026-11',
        now,
      });
      expect(keys).toContain('reports/cost/2026-11/costs.xlsx');
      const rows = await parseCsv(await readFile(join(dir, 'reports/cost/2026-11/costs.csv'), 'utf8'));
      const total = rows.find((r) => r.level === 'total')!;
      const expected = 10 * (23 * 2 + 7 * 3);
      expect(Number(total.cost)).toBe(expected);
      expect(Number(total.forecast)).toBe(expected); // the month is over
      expect(Number(total.next_month_forecast)).toBe(10 * 3 * 31);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
