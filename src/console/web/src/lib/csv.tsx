import type { AuditEvent } from '../api/types';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A value a
 * spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`,
 * so an actor or target id chosen by a caller cannot become a formula in an admin's sheet.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',');
}

const AUDIT_HEADER = [
  'id',
  'occurred_at',
  'component',
  'action',
  'actor',
  'actor_realm',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'details',
];

/** The audit log as CSV with a header line; `details` as JSON. Lines end in CRLF, as RFC 4180 says. */
export function auditCsv(events: readonly AuditEvent[]): string {
  const lines = [csvLine(AUDIT_HEADER)];
  for (const e of events) {
    lines.push(
      csvLine([
        e.id,
        e.occurred_at,
        e.service,
        e.action,
        e.actor,
        e.actor_realm ?? '',
        e.target_type ?? '',
        e.target_id ?? '',
        e.outcome,
        e.request_id ?? '',
        e.details === undefined || e.details === null ? '' : JSON.stringify(e.details),
      ]),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
