import type { SandboxAccount as ContractAccount } from '../contract.js';
import type { SandboxAccount } from '../spend/types.js';

export const REPORT_KINDS = ['inventory', 'activity', 'cost'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** One file of a report, e.g. `costs.csv`. */
export interface ReportFile {
  name: string;
  ext: keyof typeof CONTENT_TYPES;
  body: Buffer;
}

/** A report as produced for one period: the weekly inventory's day `YYYY-MM-DD`, a month `YYYY-MM`. */
export interface Report {
  kind: ReportKind;
  period: string;
  files: ReportFile[];
}

const PERIOD = /^\d{4}-\d{2}(-\d{2})?$/;
const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Where a report file lives in the reports bucket: `reports/<kind>/<yyyy-mm[-dd]>/<name>.<ext>`. */
export function reportKey(kind: ReportKind, period: string, name: string, ext: ReportFile['ext']): string {
  // Checked because keys become file paths in the folder bucket.
  if (!PERIOD.test(period)) throw new TypeError(`report period "${period}" is not YYYY-MM or YYYY-MM-DD`);
  if (!NAME.test(name)) throw new TypeError(`report file name "${name}" is not lower-case kebab`);
  return `reports/${kind}/${period}/${name}.${ext}`;
}

/** Account fields the reports show beyond what the spend check needs. */
export interface ReportAccount extends SandboxAccount {
  email?: string;
  /** When the account entered its current state (ISO 8601). */
  stateSince?: string;
  /** When the account was last purged (ISO 8601). */
  lastPurge?: string;
}

/** Placeholder for an account without cost centre or OU, so that its cost still adds up in the totals. */
export const NONE = '(none)';

/** Adapts the sandbox service's account record (contract.ts) to what reports and spend checks read. */
export function reportAccount(a: ContractAccount): ReportAccount {
  const since = a.state_timestamps[a.state];
  const purged = a.state_timestamps.purged;
  return {
    id: a.id,
    name: a.name,
    email: a.email,
    organizationalUnit: a.organizational_unit_name ?? NONE,
    costCenter: a.cost_center ?? NONE,
    holder: a.holder ?? '',
    state: a.state,
    tags: a.tags,
    ...(since ? { stateSince: since } : {}),
    ...(purged ? { lastPurge: purged } : {}),
  };
}
