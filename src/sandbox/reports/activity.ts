import { stringify } from 'csv-stringify/sync';
import { SANDBOX_EXCEPTION_KINDS } from '../contract.js';
import { NONE, type Report, type ReportAccount } from './report.js';
import { addTableSheet, newWorkbook, workbookBuffer } from './workbook.js';

/** What the activity report reads of an event; the sandbox service's SandboxEvent has these fields. */
export interface ReportEvent {
  account_id: string;
  kind: string;
  message: string;
  /** ISO 8601, UTC. */
  occurred_at: string;
}

/** Activity columns: the lifecycle events by name, and every exception kind counted together. */
const ACTIVITY = {
  created: 'CreatedAccount',
  assigned: 'AssignedAccount',
  released: 'ReleasedAccount',
  expired: 'ExpiredAccount',
  purged: 'PurgedAccount',
  prepared: 'PreparedAccount',
} as const;
type Activity = keyof typeof ACTIVITY | 'exceptions';
const COLUMNS: Activity[] = [...(Object.keys(ACTIVITY) as (keyof typeof ACTIVITY)[]), 'exceptions'];
const BY_KIND = new Map<string, Activity>(Object.entries(ACTIVITY).map(([k, v]) => [v, k as Activity]));
const EXCEPTIONS = new Set<string>(SANDBOX_EXCEPTION_KINDS);

export interface ActivityRow {
  level: 'account' | 'organizational_unit' | 'total';
  key: string;
  organizationalUnit: string;
  counts: Record<Activity, number>;
}

function activityOf(kind: string): Activity | undefined {
  return BY_KIND.get(kind) ?? (EXCEPTIONS.has(kind) || kind.endsWith('Exception') ? 'exceptions' : undefined);
}

const zero = (): Record<Activity, number> =>
  Object.fromEntries(COLUMNS.map((c) => [c, 0])) as Record<Activity, number>;

/**
 * Events of month `YYYY-MM` (UTC) counted per account, per OU and in total. Accounts without
 * events are listed with zeros (an unused account is worth seeing); events of accounts no longer
 * known count under OU `(none)`.
 */
export function activityRows(accounts: ReportAccount[], events: ReportEvent[], month: string): ActivityRow[] {
  const ouOf = new Map(accounts.map((a) => [a.id, a.organizationalUnit || NONE]));
  const perAccount = new Map<string, Record<Activity, number>>(accounts.map((a) => [a.id, zero()]));
  for (const e of events) {
    if (!e.occurred_at.startsWith(month)) continue;
    const activity = activityOf(e.kind);
    if (!activity)
      throw new Error(`event kind "${e.kind}" of account ${e.account_id} is not one the report knows`);
    const counts = perAccount.get(e.account_id) ?? zero();
    counts[activity]++;
    perAccount.set(e.account_id, counts);
  }
  const rows: ActivityRow[] = [];
  const perOu = new Map<string, Record<Activity, number>>();
  const total = zero();
  for (const [id, counts] of [...perAccount].sort(([a], [b]) => a.localeCompare(b))) {
    const ou = ouOf.get(id) ?? NONE;
    rows.push({ level: 'account', key: id, organizationalUnit: ou, counts });
    const sum = perOu.get(ou) ?? zero();
    for (const c of COLUMNS) {
      sum[c] += counts[c];
      total[c] += counts[c];
    }
    perOu.set(ou, sum);
  }
  for (const [ou, counts] of [...perOu].sort(([a], [b]) => a.localeCompare(b)))
    rows.push({ level: 'organizational_unit', key: ou, organizationalUnit: ou, counts });
  rows.push({ level: 'total', key: 'total', organizationalUnit: '', counts: total });
  return rows;
}

export interface ActivityInput {
  accounts: ReportAccount[];
  events: ReportEvent[];
  /** `YYYY-MM`. */
  month: string;
  now: Date;
}

/**
 * The monthly activity report: `events.csv` (every event of the month, for a downstream database),
 * `summary.csv` (per account, per OU, total) and `activity.xlsx` with both.
 */
export async function activityReport(input: ActivityInput): Promise<Report> {
  const rows = activityRows(input.accounts, input.events, input.month);
  const byId = new Map(input.accounts.map((a) => [a.id, a]));
  const events = input.events
    .filter((e) => e.occurred_at.startsWith(input.month))
    .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.account_id.localeCompare(b.account_id));
  const eventCells = events.map((e) => {
    const a = byId.get(e.account_id);
    return [
      e.occurred_at,
      e.account_id,
      a?.organizationalUnit || NONE,
      a?.costCenter || NONE,
      a?.holder ?? '',
      e.kind,
      activityOf(e.kind) ?? '',
      e.message,
    ];
  });
  const eventColumns = [
    'occurred_at',
    'account',
    'organizational_unit',
    'cost_center',
    'holder',
    'kind',
    'activity',
    'message',
  ];
  const summaryCells = rows.map((r) => [
    r.level,
    r.key,
    r.organizationalUnit,
    ...COLUMNS.map((c) => r.counts[c]),
  ]);
  const wb = newWorkbook(input.now);
  addTableSheet(
    wb,
    'Per account',
    [
      { header: 'account', width: 15 },
      { header: 'organizational unit', width: 22 },
      ...COLUMNS.map((c) => ({ header: c })),
    ],
    rows
      .filter((r) => r.level === 'account')
      .map((r) => [r.key, r.organizationalUnit, ...COLUMNS.map((c) => r.counts[c])]),
  );
  addTableSheet(
    wb,
    'Per organizational unit',
    [{ header: 'organizational unit', width: 22 }, ...COLUMNS.map((c) => ({ header: c }))],
    rows.filter((r) => r.level !== 'account').map((r) => [r.key, ...COLUMNS.map((c) => r.counts[c])]),
  );
  addTableSheet(
    wb,
    'Events',
    eventColumns.map((h) => ({ header: h.replace(/_/g, ' '), width: h === 'message' ? 60 : 20 })),
    eventCells,
  );
  return {
    kind: 'activity',
    period: input.month,
    files: [
      {
        name: 'events',
        ext: 'csv',
        body: Buffer.from(stringify(eventCells, { header: true, columns: eventColumns })),
      },
      {
        name: 'summary',
        ext: 'csv',
        body: Buffer.from(
          stringify(summaryCells, {
            header: true,
            columns: ['level', 'key', 'organizational_unit', ...COLUMNS],
          }),
        ),
      },
      { name: 'activity', ext: 'xlsx', body: await workbookBuffer(wb) },
    ],
  };
}
