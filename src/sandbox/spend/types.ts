/** An account as spend checks and reports need it; the sandbox core adapts its records to this. */
export interface SandboxAccount {
  id: string;
  name: string;
  organizationalUnit: string;
  costCenter: string;
  holder: string;
  state: string;
  tags: Record<string, string>;
}

/** Cost of one account on one UTC day (`YYYY-MM-DD`). */
export interface DailyCost {
  accountId: string;
  day: string;
  amount: number;
  currency: string;
}

/** A source of daily cost per account for an inclusive date range. */
export interface CostSource {
  dailyCosts(from: string, to: string): Promise<DailyCost[]>;
}

/** Raised when a cost file cannot be read; `line` is 1-based (the header is line 1). */
export class CostFileError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CostFileError';
  }
}

/**
 * Forecast cost per account for the inclusive date range `from`..`to` (days not yet billed): Cost
 * Explorer's GetCostForecast, or a run rate of recent days where no forecast service is configured.
 */
export interface ForecastSource {
  forecast(accountIds: string[], from: string, to: string): Promise<Map<string, number>>;
}
