/**
 * sandbox's audit vocabulary. `assign`, `release` and `purge` are the API's writes (refusals
 * recorded under the same names; a dry-run purge too, with `dry_run: true`, since it reads every
 * resource of someone's account); `discover` an account first seen in the organisation;
 * `transition` a state the maintenance job moved an account to; `incident.record` an exception;
 * `report.write` the report files the job sandbox.reports wrote (their keys); `tags.import` a CSV
 * file of account tags (a dry run too, and a refused file with its problems).
 */
export const SANDBOX_EVENTS = [
  'sandbox.account.assign',
  'sandbox.account.release',
  'sandbox.account.purge',
  'sandbox.account.discover',
  'sandbox.account.transition',
  'sandbox.incident.record',
  'sandbox.report.write',
  'sandbox.tags.import',
] as const;
export type SandboxAuditEvent = (typeof SANDBOX_EVENTS)[number];
