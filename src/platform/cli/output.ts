import type TableType from 'cli-table3';
import { lazyPackage } from '../lazy-package.js';
import { CliError } from './cli-error.js';

export const OUTPUT_FORMATS = ['text', 'json', 'tsv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * cli-table3 (CommonJS) is loaded on the first text table, not when a CLI starts: `--help`, JSON
 * output and errors never need it, and it is a fifth of a CLI's start-up.
 */
const tableClass = lazyPackage<typeof TableType>('cli-table3');

export function parseOutputFormat(value: string | undefined): OutputFormat {
  const format = value ?? 'text';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new CliError(`--output must be one of ${OUTPUT_FORMATS.join(', ')} (got "${format}")`, 2);
  }
  return format as OutputFormat;
}

export interface Column<Row> {
  /** Header in text and tsv output; json uses `key`. */
  title: string;
  key: string;
  value: (row: Row) => unknown;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value; // functions and symbols have no useful cell text
}

/** Renders rows as an aligned table (text), JSON objects, or tab-separated values with a header. */
export function renderRows<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  format: OutputFormat,
): string {
  if (format === 'json') {
    return `${JSON.stringify(
      rows.map((row) => Object.fromEntries(columns.map((c) => [c.key, c.value(row) ?? null]))),
      null,
      2,
    )}\n`;
  }
  if (format === 'tsv') {
    const lines = [
      columns.map((c) => c.key),
      ...rows.map((row) => columns.map((c) => cell(c.value(row)).replace(/[\t\n]/g, ' '))),
    ];
    return `${lines.map((l) => l.join('\t')).join('\n')}\n`;
  }
  const table = new (tableClass())({
    head: columns.map((c) => c.title),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
  });
  for (const row of rows) table.push(columns.map((c) => cell(c.value(row))));
  return `${table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')}\n`;
}

/** One object: pretty JSON, or `key: value` lines for text, `key\tvalue` for tsv. */
export function renderObject(value: Record<string, unknown>, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  const sep = format === 'tsv' ? '\t' : ': ';
  return `${Object.entries(value)
    .map(([k, v]) => `${k}${sep}${cell(v)}`)
    .join('\n')}\n`;
}

/** "3m ago", "in 59m": how STUPS CLIs show times. */
export function relativeTime(date: Date, now: Date = new Date()): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  // Clocks of client and server differ by a little: a few seconds either way is "now".
  if (abs < 5) return 'just now';
  const text =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)}m`
        : abs < 86400
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86400)}d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}
