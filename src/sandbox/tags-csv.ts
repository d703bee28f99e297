import { stringify } from 'csv-stringify/sync';
import { ACCOUNT_HOLDER_TAG, ACCOUNT_STATE_TAG } from './contract.js';

/*
 * Account tags as CSV, the way other teams (FinOps, Security, Enterprise Architecture) hand them
 * over: one row per account, the column `account` (12-digit id) and one column per tag key. The
 * export writes the same shape, so a file can be exported, edited in a spreadsheet and imported.
 * An empty cell leaves that tag as it is; tags are added or changed, never removed.
 */

/** One bad thing about the file; `line` is 1-based (the header is line 1). */
export interface TagFileProblem {
  line: number;
  message: string;
}

export interface TagRow {
  line: number;
  accountId: string;
  tags: Record<string, string>;
}

/** Tags the lifecycle owns: written by assign/release/maintenance, never by a file. */
export function isLifecycleTag(key: string): boolean {
  return key === ACCOUNT_STATE_TAG || key === ACCOUNT_HOLDER_TAG || key.startsWith('account-state-since:');
}

// AWS Organizations' limits for tag keys and values.
const KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** RFC 4180 records with the line each starts on (a quoted cell may span lines). */
function records(text: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let line = 1;
  let start = 1;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let touched = false;
  const body = text.replace(/^\uFEFF/, '');
  const end = () => {
    cells.push(cell);
    if (touched || cells.length > 1 || cell !== '') out.push({ line: start, cells });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
      touched = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      touched = true;
    } else if (c === '\r' && body[i + 1] === '\n') continue;
    else if (c === '\n') {
      end();
      line++;
      start = line;
    } else cell += c;
  }
  if (quoted) out.push({ line: start, cells: [...cells, cell, '\u0000unterminated'] });
  else end();
  return out;
}

/**
 * Reads a tag file and reports every problem at once, each with its line. `known` are the
 * sandbox accounts: a row for another account is a problem, not a silent skip.
 */
export function parseTagsCsv(
  text: string,
  known: ReadonlySet<string>,
): { rows: TagRow[]; problems: TagFileProblem[] } {
  const problems: TagFileProblem[] = [];
  const all = records(text);
  const header = all[0];
  if (!header) return { rows: [], problems: [{ line: 1, message: 'empty file: no header' }] };
  const keys = header.cells.map((k) => k.trim());
  if (keys[0] !== 'account')
    problems.push({ line: header.line, message: `the first column must be "account", not "${keys[0]}"` });
  const seenKeys = new Set<string>();
  for (const key of keys.slice(1)) {
    if (!KEY.test(key)) problems.push({ line: header.line, message: `"${key}" is not a valid tag key` });
    else if (isLifecycleTag(key))
      problems.push({
        line: header.line,
        message: `tag "${key}" is set by the account lifecycle, not by a file`,
      });
    if (seenKeys.has(key)) problems.push({ line: header.line, message: `column "${key}" appears twice` });
    seenKeys.add(key);
  }
  const rows: TagRow[] = [];
  const seenAccounts = new Map<string, number>();
  for (const record of all.slice(1)) {
    const { line, cells } = record;
    if (cells.at(-1) === '\u0000unterminated') {
      problems.push({ line, message: 'a quoted cell is not closed' });
      continue;
    }
    if (cells.length !== keys.length) {
      problems.push({ line, message: `${cells.length} cells, the header has ${keys.length}` });
      continue;
    }
    const accountId = cells[0]!.trim();
    if (!/^\d{12}$/.test(accountId)) {
      problems.push({ line, message: `"${accountId}" is not a 12-digit AWS account id` });
      continue;
    }
    if (!known.has(accountId))
      problems.push({ line, message: `account ${accountId} is not a sandbox account` });
    const earlier = seenAccounts.get(accountId);
    if (earlier !== undefined)
      problems.push({ line, message: `account ${accountId} is already on line ${earlier}` });
    seenAccounts.set(accountId, line);
    const tags: Record<string, string> = {};
    keys.slice(1).forEach((key, i) => {
      const value = cells[i + 1]!.trim();
      if (value === '') return;
      if (!VALUE.test(value)) problems.push({ line, message: `value of "${key}" is not a valid tag value` });
      else tags[key] = value;
    });
    rows.push({ line, accountId, tags });
  }
  return { rows, problems: problems.sort((a, b) => a.line - b.line) };
}

/** The tags of every account (lifecycle tags left out: the file could not import them). */
export function tagsCsv(accounts: { id: string; tags: Record<string, string> }[]): string {
  const keys = [
    ...new Set(accounts.flatMap((a) => Object.keys(a.tags).filter((k) => !isLifecycleTag(k)))),
  ].sort();
  const sorted = [...accounts].sort((a, b) => a.id.localeCompare(b.id));
  return stringify([['account', ...keys], ...sorted.map((a) => [a.id, ...keys.map((k) => a.tags[k] ?? '')])]);
}
