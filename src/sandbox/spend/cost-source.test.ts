import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import type { SandboxAccount } from '../contract.js';
import { folderReportBucket } from '../reports/report-bucket.js';
import { SandboxSettingsSchema } from '../settings.js';
import { createSandboxHarness, SANDBOX_TEST_MIGRATIONS } from '../test-support/harness.js';
import { CostExplorerSource } from './cost-explorer.js';
import { chooseCostSource, createCostSources } from './cost-source.js';

const spend = (s: object) => SandboxSettingsSchema.parse({ spend: s }).spend;

describe('sandbox.spend.source', () => {
  it('auto: the cost file when set, else Cost Explorer when managed, else none', () => {
    expect(chooseCostSource(spend({ costFile: '/c.csv' }), true)).toBe('costFile');
    expect(chooseCostSource(spend({ costFile: '/c.csv' }), false)).toBe('costFile');
    expect(chooseCostSource(spend({}), true)).toBe('costExplorer');
    expect(chooseCostSource(spend({}), false)).toBe('none');
    expect(chooseCostSource(spend({ source: 'costExplorer', costFile: '/c.csv' }), true)).toBe(
      'costExplorer',
    );
  });

  it('refuses a source that cannot work here, naming the setting', () => {
    expect(() => chooseCostSource(spend({ source: 'costFile' }), true)).toThrow(
      'sandbox.spend.source is costFile but sandbox.spend.costFile is unset',
    );
    expect(() => chooseCostSource(spend({ source: 'costExplorer' }), false)).toThrow(
      'sandbox.spend.source is costExplorer but sandbox.enabled is false',
    );
  });

  it('creates a Cost Explorer source (us-east-1) that is also the forecast source', async () => {
    const made = await createCostSources(spend({}), {
      managed: true,
      aws: { region: 'eu-central-1', endpoint: 'http://127.0.0.1:1' },
      accountIds: async () => [],
    });
    try {
      expect(made.kind).toBe('costExplorer');
      expect(made.costs).toBeInstanceOf(CostExplorerSource);
      expect(made.forecasts).toBe(made.costs);
      // No account: no billed request at all.
      expect(await made.costs!.dailyCosts('2026-11-01', '2026-11-27')).toEqual([]);
    } finally {
      made.dispose();
    }
  });
});

/*
 * moto answers GetCostAndUsage only with results queued through its own API and has no
 * GetCostForecast, so the service's use of Cost Explorer is checked as a call sequence with
 * aws-sdk-client-mock; the daily check's and the reports' arithmetic on the same service is
 * covered against real files in sandbox-service.test.ts (the cost-file source).
 */
describe('the sandbox service reading Cost Explorer', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const account = (id: string, name: string, costCenter: string): SandboxAccount => ({
    id,
    name,
    email: `${name}@example.org`,
    organizational_unit: 'ou-1',
    organizational_unit_name: 'engineering',
    state: 'assigned',
    holder: 'jdoe',
    cost_center: costCenter,
    tags: {},
    state_timestamps: {},
  });

  it('the daily check and the monthly report ask Cost Explorer about the sandbox accounts only', async () => {
    const [a, b] = ['111111111111', '222222222222'];
    const client = new CostExplorerClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    const dayResult = (day: number, amounts: [string, string]) => ({
      TimePeriod: { Start: `2026-11-${String(day).padStart(2, '0')}` },
      Groups: [
        { Keys: [a], Metrics: { UnblendedCost: { Amount: amounts[0], Unit: 'USD' } } },
        { Keys: [b], Metrics: { UnblendedCost: { Amount: amounts[1], Unit: 'USD' } } },
      ],
    });
    const november = Array.from({ length: 30 }, (_, i) =>
      dayResult(i + 1, i + 1 === 27 ? ['2.00', '450.00'] : ['2.00', '3.00']),
    );
    mock.on(GetCostAndUsageCommand).callsFake((input: { TimePeriod: { Start: string; End: string } }) => ({
      ResultsByTime: november.filter(
        (r) => r.TimePeriod.Start >= input.TimePeriod.Start && r.TimePeriod.Start < input.TimePeriod.End,
      ),
    }));
    mock
      .on(GetCostForecastCommand, { Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: [a] } } })
      .resolves({ Total: { Amount: '61.5', Unit: 'USD' } })
      .on(GetCostForecastCommand, { Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: [b] } } })
      .resolves({ Total: { Amount: '93.25', Unit: 'USD' } });

    const db = await openTestDatabase('pglite', SANDBOX_TEST_MIGRATIONS);
    cleanups.push(() => db.drop());
    const reportsDir = await mkdtemp(join(tmpdir(), 'sandbox-ce-'));
    cleanups.push(() => rm(reportsDir, { recursive: true, force: true }));
    let now = new Date('2026-11-28T06:00:00Z');
    // The source asks the store the harness makes: known only after the harness exists.
    const ref: { store?: { list(): Promise<{ id: string }[]> } } = {};
    const source = new CostExplorerSource({
      client,
      accountIds: async () => (await ref.store!.list()).map((x) => x.id),
    });
    const h = await createSandboxHarness(db.database, {
      now: () => now,
      costs: source,
      forecasts: source,
      reports: folderReportBucket(reportsDir),
    });
    cleanups.push(() => h.close());
    ref.store = h.sandbox.store;
    await h.sandbox.store.write(async (trx) => {
      await h.sandbox.store.upsertAccount(trx, account(a, 'sandbox-a', 'cc-100'), 500);
      await h.sandbox.store.upsertAccount(trx, account(b, 'sandbox-b', 'cc-200'), 500);
    });

    const checked = await h.sandbox.service.checkSpend();
    expect(checked.exceptions.map((e) => `${e.accountId} ${e.kind}`).sort()).toEqual([
      `${b} budget-threshold`,
      `${b} unusual-daily-spend`,
    ]);
    const daily = mock.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input);
    expect(daily).toEqual([
      {
        TimePeriod: { Start: '2026-11-01', End: '2026-11-28' },
        Granularity: 'DAILY',
        Metrics: ['UnblendedCost'],
        GroupBy: [{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }],
        Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: [a, b] } },
      },
    ]);
    expect((await h.sandbox.service.get(b)).month_to_date).toBeCloseTo(25 * 3 + 450 + 3);
    expect((await h.sandbox.service.incidents(b)).map((i) => i.kind)).toEqual([
      'BudgetAlertException',
      'BudgetAlertException',
    ]);

    // December 1st: November's reports, with the next month forecast from GetCostForecast.
    mock.resetHistory();
    now = new Date('2026-12-01T08:00:00Z');
    const { written } = await h.sandbox.service.produceReports();
    const costCsv = written.find((k) => k.startsWith('reports/cost/2026-11/') && k.endsWith('.csv'));
    expect(costCsv).toBeDefined();
    const forecastCalls = mock.commandCalls(GetCostForecastCommand).map((c) => c.args[0].input);
    expect(forecastCalls.map((c) => c.TimePeriod)).toEqual([
      { Start: '2026-12-01', End: '2027-01-01' },
      { Start: '2026-12-01', End: '2027-01-01' },
    ]);
    expect(mock.commandCalls(GetCostAndUsageCommand)[0]!.args[0].input.TimePeriod).toEqual({
      Start: '2026-10-25',
      End: '2026-12-01',
    });
    const csv = await readFile(join(reportsDir, costCsv!), 'utf8');
    // November totals from Cost Explorer: a 30 × 2.00; b 29 × 3.00 + 450.
    expect(csv).toContain('60');
    expect(csv).toContain('537');
    expect(csv).toContain('93.25');
  }, 60_000);
});
