/**
 * fullstop's audit vocabulary. `violation.create` is a violation posted through the API;
 * `cloudtrail_file.ingest` records one ingested log file with how many violations it added
 * (one event per file, not per violation: a file of 10,000 events is one unit of work);
 * `instance_log.create` a Taupage log received; `violation.resolve` a comment set;
 * `periodic_check.run` one run of a periodic check over every account, with what it found.
 * `risk_acceptance.create` an acceptance with how many stored violations it covered at once;
 * `risk_acceptance.expire` one ended early by a person or at its expiry by the job;
 * `risk_acceptance.shorten` its expiry brought forward (never later: that takes a new one).
 */
export const FULLSTOP_EVENTS = [
  'fullstop.violation.create',
  'fullstop.violation.resolve',
  'fullstop.cloudtrail_file.ingest',
  'fullstop.instance_log.create',
  'fullstop.periodic_check.run',
  'fullstop.risk_acceptance.create',
  'fullstop.risk_acceptance.expire',
  'fullstop.risk_acceptance.shorten',
] as const;
export type FullstopEvent = (typeof FULLSTOP_EVENTS)[number];
