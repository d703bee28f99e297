import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  DataUnavailableException,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { CostExplorerSource } from './cost-explorer.js';
import { monthForecasts } from './forecast.js';

const skip = skipWithoutMoto();

const day = (d: number) => `2026-11-${String(d).padStart(2, '0')}`;
const group = (account: string, amount: string) => ({
  Keys: [account],
  Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } },
});

describe.skipIf(skip)('Cost Explorer source against moto_server', () => {
  let moto: RunningMoto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 90_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('reads daily cost per linked account across pages', async () => {
    // moto tracks no cost: GetCostAndUsage answers what was queued through its own API, one queued
    // result per distinct request. The second request differs by its NextPageToken, so it gets the
    // second page: the paging loop, the request shape and the parsing go through the real SDK and HTTP.
    const queued = {
      results: [
        {
          ResultsByTime: [
            {
              TimePeriod: { Start: day(1), End: day(2) },
              Groups: [group('100000000001', '1.25'), group('100000000002', '0.5')],
              Estimated: false,
            },
            {
              TimePeriod: { Start: day(2), End: day(3) },
              Groups: [group('100000000001', '2.75')],
              Estimated: false,
            },
          ],
          NextPageToken: 'page-2',
          DimensionValueAttributes: [],
        },
        {
          ResultsByTime: [
            {
              TimePeriod: { Start: day(3), End: day(4) },
              Groups: [group('100000000002', '4.00'), group('100000000003', '0')],
              Estimated: true,
            },
          ],
          DimensionValueAttributes: [],
        },
      ],
    };
    const r = await fetch(`${moto.endpoint}/moto-api/static/ce/cost-and-usage-results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(queued),
    });
    expect(r.status).toBe(201);
    const client = new CostExplorerClient({ ...motoClientConfig(moto.endpoint), region: 'us-east-1' });
    const sent: unknown[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'GetCostAndUsageCommand') sent.push(args.input);
        return next(args);
      },
      { step: 'initialize' },
    );
    const source = new CostExplorerSource({
      client,
      accountIds: () => Promise.resolve(['100000000001', '100000000002', '100000000003']),
    });
    const costs = await source.dailyCosts(day(1), day(3));
    expect(costs).toEqual([
      { accountId: '100000000001', day: day(1), amount: 1.25, currency: 'USD' },
      { accountId: '100000000002', day: day(1), amount: 0.5, currency: 'USD' },
      { accountId: '100000000001', day: day(2), amount: 2.75, currency: 'USD' },
      { accountId: '100000000002', day: day(3), amount: 4, currency: 'USD' },
      { accountId: '100000000003', day: day(3), amount: 0, currency: 'USD' },
    ]);
    expect(sent).toEqual([
      {
        TimePeriod: { Start: day(1), End: day(4) },
        Granularity: 'DAILY',
        Metrics: ['UnblendedCost'],
        GroupBy: [{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }],
        Filter: {
          Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['100000000001', '100000000002', '100000000003'] },
        },
      },
      expect.objectContaining({ NextPageToken: 'page-2' }),
    ]);
    client.destroy();
  });
});

describe('Cost Explorer forecasts (call sequence)', () => {
  // moto 5.2 answers GetCostForecast with "not implemented", so the forecast calls are checked with
  // aws-sdk-client-mock: one call per account (the API has no GroupBy), the period's end exclusive.
  it('asks one forecast per account and lands them in the month-end and next-month figures', async () => {
    const client = new CostExplorerClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock
      .on(GetCostForecastCommand, {
        TimePeriod: { Start: '2026-11-21', End: '2026-12-01' },
        Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['100000000001'] } },
      })
      .resolves({ Total: { Amount: '50.5', Unit: 'USD' } })
      .on(GetCostForecastCommand, {
        TimePeriod: { Start: '2026-11-21', End: '2026-12-01' },
        Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['100000000002'] } },
      })
      .rejects(new DataUnavailableException({ message: 'not enough history', $metadata: {} }))
      .on(GetCostForecastCommand, { TimePeriod: { Start: '2026-12-01', End: '2027-01-01' } })
      .resolves({ Total: { Amount: '300', Unit: 'USD' } });
    mock.on(GetCostAndUsageCommand).rejects(new Error('not expected'));
    const source = new CostExplorerSource({ client, forecastConcurrency: 1 });
    const costs = [
      { accountId: '100000000001', day: day(1), amount: 20, currency: 'USD' },
      { accountId: '100000000002', day: day(20), amount: 10, currency: 'USD' },
    ];
    const f = await monthForecasts(source, ['100000000001', '100000000002'], costs, '2026-11', day(20));
    // Billed 20 + forecast 50.5; the account without history falls back to the linear forecast (10/20×30).
    expect(Object.fromEntries(f.monthEnd)).toEqual({ '100000000001': 70.5, '100000000002': 15 });
    expect(Object.fromEntries(f.nextMonth)).toEqual({ '100000000001': 300, '100000000002': 300 });
    const calls = mock.commandCalls(GetCostForecastCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    expect(calls[0]).toEqual({
      TimePeriod: { Start: '2026-11-21', End: '2026-12-01' },
      Metric: 'UNBLENDED_COST',
      Granularity: 'MONTHLY',
      Filter: { Dimensions: { Key: 'LINKED_ACCOUNT', Values: ['100000000001'] } },
    });
  });

  it('lets any other Cost Explorer error through', async () => {
    const client = new CostExplorerClient({ region: 'us-east-1' });
    mockClient(client).on(GetCostForecastCommand).rejects(new Error('AccessDenied: ce:GetCostForecast'));
    await expect(
      new CostExplorerSource({ client }).forecast(['100000000001'], day(21), day(30)),
    ).rejects.toThrow('AccessDenied: ce:GetCostForecast');
  });

  it('asks nothing for a month that is over and uses the billed cost', async () => {
    const client = new CostExplorerClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(GetCostForecastCommand).resolves({ Total: { Amount: '9', Unit: 'USD' } });
    const f = await monthForecasts(
      new CostExplorerSource({ client }),
      ['100000000001'],
      [{ accountId: '100000000001', day: day(30), amount: 12, currency: 'USD' }],
      '2026-11',
      '2026-12-01',
    );
    expect(f.monthEnd.get('100000000001')).toBe(12);
    expect(mock.commandCalls(GetCostForecastCommand).map((c) => c.args[0].input.TimePeriod)).toEqual([
      { Start: '2026-12-01', End: '2027-01-01' },
    ]);
  });
});
