/**
 * STUPS clients parse exactly `2015-04-25T16:25:00.000Z`: UTC with milliseconds.
 * `Date#toISOString` has that shape for all years 0–9999.
 */
export function formatTimestamp(value: Date | string): string {
  return (typeof value === 'string' ? new Date(value) : value).toISOString();
}
