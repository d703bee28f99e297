import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CostFileError, type CostSource, type DailyCost } from './types.js';

/** Columns of the AWS Cost and Usage Report (legacy CUR) this reader needs. */
export const CUR_COLUMNS = {
  account: 'lineItem/UsageAccountId',
  start: 'lineItem/UsageStartDate',
  cost: 'lineItem/UnblendedCost',
  currency: 'lineItem/CurrencyCode',
} as const;

/** Splits one CSV line (RFC 4180 quoting; CUR files carry no embedded newlines in these columns). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const ISO_START = /^(\d{4}-\d{2}-\d{2})(T[\d:.]+Z?)?$/;

/**
 * Streams a CUR CSV and sums unblended cost per account and UTC day. Line by line, so a large
 * monthly file is never held in memory; errors name the 1-based line.
 */
export async function parseCostFile(input: Readable): Promise<DailyCost[]> {
  const totals = new Map<string, DailyCost>();
  let index: Record<keyof typeof CUR_COLUMNS, number> | undefined;
  let lineNo = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    const line = raw.replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    const cells = splitCsv(line);
    if (!index) {
      const found = {} as Record<keyof typeof CUR_COLUMNS, number>;
      for (const [key, name] of Object.entries(CUR_COLUMNS) as [keyof typeof CUR_COLUMNS, string][]) {
        const at = cells.indexOf(name);
        if (at < 0) throw new CostFileError(`missing column "${name}"`, lineNo);
        found[key] = at;
      }
      index = found;
      continue;
    }
    const accountId = cells[index.account] ?? '';
    if (!/^\d{12}$/.test(accountId)) throw new CostFileError(`bad account id "${accountId}"`, lineNo);
    const start = cells[index.start] ?? '';
    const m = ISO_START.exec(start);
    if (!m || Number.isNaN(Date.parse(m[1] + 'T00:00:00Z'))) {
      throw new CostFileError(`bad date "${start}" in ${CUR_COLUMNS.start}`, lineNo);
    }
    const costText = cells[index.cost] ?? '';
    const amount = Number(costText);
    if (costText.trim() === '' || !Number.isFinite(amount)) {
      throw new CostFileError(`bad cost "${costText}" in ${CUR_COLUMNS.cost}`, lineNo);
    }
    const currency = cells[index.currency] || 'USD';
    const day = m[1]!;
    const key = `${accountId}|${day}`;
    const prev = totals.get(key);
    if (prev) {
      if (prev.currency !== currency)
        throw new CostFileError(`currency ${currency} differs from ${prev.currency}`, lineNo);
      prev.amount += amount;
    } else totals.set(key, { accountId, day, amount, currency });
  }
  if (!index) throw new CostFileError('empty cost file: no header', Math.max(lineNo, 1));
  return [...totals.values()].sort(
    (a, b) => a.day.localeCompare(b.day) || a.accountId.localeCompare(b.accountId),
  );
}

/** The embedded default cost source: a CUR CSV opened anew for each query. */
export class CostFileSource implements CostSource {
  constructor(private readonly open: () => Readable) {}
  async dailyCosts(from: string, to: string): Promise<DailyCost[]> {
    const all = await parseCostFile(this.open());
    return all.filter((c) => c.day >= from && c.day <= to);
  }
}
