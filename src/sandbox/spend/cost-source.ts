import { createReadStream } from 'node:fs';
import type { AwsSettings } from '../../platform/aws/client-config.js';
import { lazy } from '../aws/sdk.js';
import type { SandboxSettings } from '../settings.js';
import { CostFileSource } from './cost-file.js';
import type { CostSource, ForecastSource } from './types.js';

export type CostSourceKind = 'costExplorer' | 'costFile' | 'none';

/**
 * Which source `sandbox.spend.source` names on this installation. `auto`: the cost file when one
 * is set (the embedded default), else Cost Explorer when the service manages accounts on AWS.
 * A source that cannot work here is an error at start, not a daily check that silently does nothing.
 */
export function chooseCostSource(spend: SandboxSettings['spend'], managed: boolean): CostSourceKind {
  switch (spend.source) {
    case 'costFile':
      if (!spend.costFile)
        throw new TypeError('sandbox.spend.source is costFile but sandbox.spend.costFile is unset');
      return 'costFile';
    case 'costExplorer':
      if (!managed) throw new TypeError('sandbox.spend.source is costExplorer but sandbox.enabled is false');
      return 'costExplorer';
    case 'auto':
      return spend.costFile ? 'costFile' : managed ? 'costExplorer' : 'none';
  }
}

export interface CostSources {
  kind: CostSourceKind;
  costs?: CostSource;
  /** Cost Explorer's forecasts; the cost file has none (the monthly report uses the run rate). */
  forecasts?: ForecastSource;
}

/**
 * The daily check's and the monthly report's cost source. Cost Explorer is asked only about the
 * sandbox accounts (`accountIds`), and its SDK is imported only when it is the chosen source.
 */
export async function createCostSources(
  spend: SandboxSettings['spend'],
  options: { managed: boolean; aws: AwsSettings; accountIds: () => Promise<string[]> },
): Promise<CostSources & { dispose(): void }> {
  const kind = chooseCostSource(spend, options.managed);
  if (kind === 'costFile') {
    const file = spend.costFile!;
    return { kind, costs: new CostFileSource(() => createReadStream(file)), dispose: () => {} };
  }
  if (kind === 'costExplorer') {
    const { CostExplorerSource, costExplorerClient } = await lazy.costExplorer();
    const client = costExplorerClient(options.aws);
    const source = new CostExplorerSource({ client, accountIds: options.accountIds });
    return { kind, costs: source, forecasts: source, dispose: () => client.destroy() };
  }
  return { kind, dispose: () => {} };
}
