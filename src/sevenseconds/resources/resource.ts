import type { AccountClients } from '../aws/clients.js';
import type { AccountConfig, Change } from '../contract.js';

/** A change with what `apply` needs to make it; `op` is the module's own. */
export interface PlannedChange<Op> extends Change {
  op: Op;
}

/**
 * One kind of resource: `read` the account's current state (read-only calls only), `diff` it
 * against the file (pure: no calls), `apply` one change. `plan` runs read + diff; `configure`
 * also applies, module by module in the STUPS order, so a module reads what earlier ones made.
 */
export interface ResourceModule<Current, Op> {
  kind: string;
  read(clients: AccountClients, account: AccountConfig): Promise<Current>;
  diff(account: AccountConfig, current: Current): PlannedChange<Op>[];
  apply(clients: AccountClients, account: AccountConfig, change: PlannedChange<Op>): Promise<void>;
}

/** Erases a module's types so modules of different kinds sit in one ordered list. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyResourceModule = ResourceModule<any, any>;

/** The error name an SDK v3 service exception carries (`NoSuchEntity`, `NoSuchBucketPolicy`, …). */
export function awsErrorName(error: unknown): string {
  if (!error || typeof error !== 'object') return '';
  const e = error as { name?: string; Code?: string };
  return e.Code ?? e.name ?? '';
}
