import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  type Expression,
} from '@aws-sdk/client-cost-explorer';
import pLimit from 'p-limit';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import type { CostSource, DailyCost, ForecastSource } from './types.js';

/** The day after `day` (`YYYY-MM-DD`): Cost Explorer's periods end exclusively. */
export function nextDay(day: string): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + 86_400_000).toISOString().slice(0, 10);
}

export interface CostExplorerSourceOptions {
  client: CostExplorerClient;
  /** Only these linked accounts (the sandbox accounts); all of the organization when absent. */
  accountIds?: () => Promise<string[]>;
  /** Cost metric: unblended is what the CUR file's `lineItem/UnblendedCost` holds, so both sources agree. */
  metric?: 'UnblendedCost' | 'BlendedCost' | 'AmortizedCost' | 'NetUnblendedCost';
  /** Parallel GetCostForecast calls (one per account: the API has no GroupBy). */
  forecastConcurrency?: number;
}

/** A Cost Explorer client from the kernel's AWS settings; Cost Explorer lives in us-east-1 only. */
export function costExplorerClient(settings: AwsSettings): CostExplorerClient {
  return new CostExplorerClient({ ...awsClientConfig(settings), region: 'us-east-1' });
}

const FORECAST_METRIC = {
  UnblendedCost: 'UNBLENDED_COST',
  BlendedCost: 'BLENDED_COST',
  AmortizedCost: 'AMORTIZED_COST',
  NetUnblendedCost: 'NET_UNBLENDED_COST',
} as const;

function linkedAccounts(ids: string[]): Expression {
  return { Dimensions: { Key: 'LINKED_ACCOUNT', Values: ids } };
}

/**
 * Daily cost per account from Cost Explorer (GetCostAndUsage, DAILY, grouped by LINKED_ACCOUNT) and
 * forecasts (GetCostForecast). Behind the same `CostSource` as the cost file. Each request is billed
 * by AWS (USD 0.01), so a range is fetched in one paged query, not per account or per day.
 */
export class CostExplorerSource implements CostSource, ForecastSource {
  private readonly metric: NonNullable<CostExplorerSourceOptions['metric']>;
  constructor(private readonly options: CostExplorerSourceOptions) {
    this.metric = options.metric ?? 'UnblendedCost';
  }

  async dailyCosts(from: string, to: string): Promise<DailyCost[]> {
    const ids = this.options.accountIds ? await this.options.accountIds() : undefined;
    if (ids && ids.length === 0) return [];
    const out: DailyCost[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new GetCostAndUsageCommand({
          TimePeriod: { Start: from, End: nextDay(to) },
          Granularity: 'DAILY',
          Metrics: [this.metric],
          GroupBy: [{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }],
          ...(ids ? { Filter: linkedAccounts(ids) } : {}),
          ...(token ? { NextPageToken: token } : {}),
        }),
      );
      for (const result of page.ResultsByTime ?? []) {
        const day = result.TimePeriod?.Start;
        if (!day) throw new Error('Cost Explorer returned a result without TimePeriod.Start');
        for (const group of result.Groups ?? []) {
          const accountId = group.Keys?.[0];
          const value = group.Metrics?.[this.metric];
          if (!accountId || !value?.Amount) continue;
          const amount = Number(value.Amount);
          if (!Number.isFinite(amount))
            throw new Error(`Cost Explorer returned amount "${value.Amount}" for ${accountId} on ${day}`);
          out.push({ accountId, day, amount, currency: value.Unit ?? 'USD' });
        }
      }
      token = page.NextPageToken;
    } while (token);
    return out.sort((a, b) => a.day.localeCompare(b.day) || a.accountId.localeCompare(b.accountId));
  }

  /**
   * Forecast per account for `from`..`to` (inclusive; `from` must be today or later, as AWS
   * requires). An account Cost Explorer has too little history for (DataUnavailableException)
   * is left out, so the caller falls back to its run rate for it.
   */
  async forecast(accountIds: string[], from: string, to: string): Promise<Map<string, number>> {
    const limit = pLimit(this.options.forecastConcurrency ?? 4);
    const out = new Map<string, number>();
    await Promise.all(
      accountIds.map((id) =>
        limit(async () => {
          try {
            const r = await this.options.client.send(
              new GetCostForecastCommand({
                TimePeriod: { Start: from, End: nextDay(to) },
                Metric: FORECAST_METRIC[this.metric],
                Granularity: 'MONTHLY',
                Filter: linkedAccounts([id]),
              }),
            );
            const amount = Number(r.Total?.Amount);
            if (r.Total?.Amount !== undefined && Number.isFinite(amount)) out.set(id, amount);
          } catch (error) {
            if ((error as { name?: string }).name === 'DataUnavailableException') return;
            throw error;
          }
        }),
      ),
    );
    return out;
  }
}
