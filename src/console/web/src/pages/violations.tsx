import { type FormEvent, lazy, Suspense, useState } from 'react';
import type { AwsAccount, Team, TrendDay, Violation, ViolationQuery, ViolationType } from '../api/types';
import { type Column, ListTable } from '../components/list-table';
import { Empty, ErrorNotice, Loaded, Loading } from '../components/states';
import { formatTimestamp, plural } from '../lib/format';
import { Link, path, useRouter } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import {
  accountsOfTeam,
  ApplicationLink,
  PriorityLabel,
  SEVERITY_LABELS,
  SeverityBadge,
  StatusBadge,
  TeamSelect,
  useOrganisation,
  ViolationsTabs,
} from './violations-common';
import { TREND_SERIES } from './violations-trend-series';

/*
 * fullstop's violations of a team's accounts: how they develop (the trend), and the list with
 * the filters STUPS had. Filters live in the address, so a filtered view can be shared as a link.
 */

// uPlot comes with the chart, on first use: neither the first load nor the list waits for it.
const TrendChart = lazy(() => import('./violations-trend-chart'));

const PAGE_SIZE = 25;
const TREND_RANGES = ['30', '90', '365'] as const;

const FILTERS = ['team', 'account', 'type', 'severity', 'status', 'from', 'to', 'days'] as const;
type Filter = (typeof FILTERS)[number];
type Filters = Record<Filter, string>;

function filtersOf(q: URLSearchParams): Filters {
  const f = Object.fromEntries(FILTERS.map((k) => [k, q.get(k) ?? ''])) as Filters;
  if (f.status !== 'checked') f.status = 'open';
  if (!TREND_RANGES.some((d) => d === f.days)) f.days = '30';
  return f;
}

function hrefOf(f: Filters, page = 0): string {
  const params = new URLSearchParams();
  for (const k of FILTERS) {
    const v = f[k].trim();
    // Defaults stay out of the address.
    if (v && !(k === 'status' && v === 'open') && !(k === 'days' && v === '30')) params.set(k, v);
  }
  if (page > 0) params.set('page', String(page));
  return `/violations${params.size ? `?${params}` : ''}`;
}

/** The list query of the filters, or undefined when the team owns no account (nothing to ask). */
function queryOf(f: Filters, teamAccounts: readonly AwsAccount[], page: number): ViolationQuery | undefined {
  const accounts = f.account ? [f.account] : teamAccounts.map((a) => a.id);
  if (!accounts.length) return undefined;
  return {
    accounts: accounts.join(','),
    checked: f.status === 'checked',
    sort: 'created,DESC',
    page,
    size: PAGE_SIZE,
    ...(f.type ? { type: f.type } : {}),
    ...(f.severity ? { severity: f.severity } : {}),
    // Dates are whole UTC days, both ends included.
    ...(f.from ? { from: `${f.from}T00:00:00Z` } : {}),
    ...(f.to ? { to: `${f.to}T23:59:59.999Z` } : {}),
  };
}

const COLUMNS: Column<Violation>[] = [
  {
    header: 'Violation',
    cell: (v) => (
      <>
        <Link to={path('violations', String(v.id))}>{v.violation_type.title}</Link>
        <span className="muted block">
          #{v.id} · <code>{v.violation_type.id}</code>
        </span>
      </>
    ),
    className: 'reason',
  },
  { header: 'Severity', cell: (v) => <SeverityBadge severity={v.violation_type.violation_severity} /> },
  { header: 'Priority', cell: (v) => <PriorityLabel priority={v.violation_type.priority} /> },
  // Before the wide columns: on a narrow screen the table scrolls sideways, the status should not.
  { header: 'Status', cell: (v) => <StatusBadge violation={v} /> },
  {
    header: 'Account',
    cell: (v) => (
      <>
        <code>{v.account_id}</code>
        <span className="muted block">{v.region}</span>
      </>
    ),
  },
  { header: 'Application', cell: (v) => <ApplicationLink id={v.application_id} /> },
  { header: 'Found (UTC)', cell: (v) => formatTimestamp(v.created), className: 'nowrap' },
];

function FilterForm({
  initial,
  accounts,
  types,
  allTeams,
  onApply,
}: {
  initial: Filters;
  accounts: readonly AwsAccount[];
  types: readonly ViolationType[];
  allTeams: readonly Team[];
  onApply: (filters: Filters) => void;
}) {
  const [f, setF] = useState(initial);
  const set = (key: Filter) => (e: { target: { value: string } }) =>
    setF((old) => ({ ...old, [key]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(f);
  };
  return (
    <form className="filters" role="search" aria-label="Filter the violations" onSubmit={submit}>
      <TeamSelect
        id="violations-team"
        value={f.team}
        allTeams={allTeams}
        allowAllOwn
        // Another team's accounts: the account filter of the old team means nothing there.
        onChange={(team) => onApply({ ...f, team, account: '' })}
      />
      <div className="field">
        <label htmlFor="violations-account">Account</label>
        <select id="violations-account" value={f.account} onChange={set('account')}>
          <option value="">All accounts of the team</option>
          {accounts.map((a) => (
            <option key={a.id} value={a.id}>
              {a.id} ({a.owner})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="violations-type">Type</label>
        <select id="violations-type" value={f.type} onChange={set('type')}>
          <option value="">All types</option>
          {types.map((t) => (
            <option key={t.id} value={t.id}>
              {t.title}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="violations-severity">Severity</label>
        <select id="violations-severity" value={f.severity} onChange={set('severity')}>
          <option value="">Any severity</option>
          {SEVERITY_LABELS.map((label, severity) => ({ label, severity }))
            .reverse()
            .map(({ label, severity }) => (
              <option key={severity} value={String(severity)}>
                {label}
              </option>
            ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="violations-status">Status</label>
        <select id="violations-status" value={f.status} onChange={set('status')}>
          <option value="open">Open</option>
          <option value="checked">Resolved or accepted</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="violations-from">Found from (UTC)</label>
        <input id="violations-from" type="date" value={f.from} onChange={set('from')} />
      </div>
      <div className="field">
        <label htmlFor="violations-to">Found until (UTC)</label>
        <input id="violations-to" type="date" value={f.to} onChange={set('to')} />
      </div>
      <div className="actions">
        <button type="submit" className="button">
          Apply filters
        </button>
      </div>
    </form>
  );
}

/** The sentence a screen reader hears instead of the chart. */
export function trendSummary(days: readonly TrendDay[]): string {
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last) return 'No days to show.';
  const found = days.reduce((n, d) => n + d.opened, 0);
  const resolved = days.reduce((n, d) => n + d.resolved, 0);
  const openBefore = first.open - first.opened + first.resolved;
  return (
    `From ${first.day} to ${last.day}: ${plural(found, 'violation')} found, ${resolved} resolved; ` +
    `open went from ${openBefore} to ${last.open}.`
  );
}

function TrendTable({ days }: { days: readonly TrendDay[] }) {
  return (
    <details className="trend-table">
      <summary>The trend as a table</summary>
      <ListTable
        caption="Violations per day (UTC)"
        rows={[...days].reverse()}
        rowKey={(d) => d.day}
        columns={[
          { header: 'Day', cell: (d) => d.day, className: 'nowrap' },
          { header: 'Found', cell: (d) => d.opened },
          { header: 'Resolved', cell: (d) => d.resolved },
          { header: 'Open at the end', cell: (d) => d.open },
        ]}
      />
    </details>
  );
}

function Trend({ team, days, onDays }: { team: string; days: string; onDays: (days: string) => void }) {
  const { api } = useSignedIn();
  const state = useLoad(
    (signal) => api.violationTrend({ ...(team ? { team } : {}), days: Number(days) }, signal),
    [team, days],
  );
  return (
    <section aria-labelledby="trend-heading" className="trend">
      <div className="trend-header">
        <h2 id="trend-heading">Trend</h2>
        <div className="field">
          <label htmlFor="trend-days">Period</label>
          <select id="trend-days" value={days} onChange={(e) => onDays(e.target.value)}>
            {TREND_RANGES.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
          </select>
        </div>
      </div>
      <Loaded state={state} label="Loading the trend…">
        {(trend) => (
          <figure className="trend-figure" aria-labelledby="trend-summary">
            <p id="trend-summary" className="trend-summary">
              {trendSummary(trend)}
            </p>
            <ul className="trend-legend" aria-hidden="true">
              {TREND_SERIES.map((s) => (
                <li key={s.key}>
                  <span className={`trend-swatch trend-swatch-${s.key}`} />
                  {s.label}
                </li>
              ))}
            </ul>
            <Suspense fallback={<div className="trend-chart trend-chart-loading" aria-hidden="true" />}>
              <TrendChart days={trend} />
            </Suspense>
            <TrendTable days={trend} />
          </figure>
        )}
      </Loaded>
    </section>
  );
}

function ViolationList({
  query,
  page,
  onPage,
}: {
  query: ViolationQuery;
  page: number;
  onPage: (page: number) => void;
}) {
  const { api } = useSignedIn();
  const key = JSON.stringify(query);
  const state = useLoad((signal) => api.violations(query, signal), [key]);
  return (
    <Loaded state={state} label="Loading the violations…">
      {(result) =>
        result.totalElements === 0 ? (
          <Empty
            title={
              query.checked ? 'No resolved or accepted violation matches.' : 'No open violation matches.'
            }
          />
        ) : (
          <>
            <p className="muted" role="status">
              {plural(result.totalElements, 'violation')}
              {result.totalPages > 1 && `, page ${result.number + 1} of ${result.totalPages}`}
            </p>
            <ListTable
              caption={query.checked ? 'Resolved or accepted violations' : 'Open violations'}
              rows={result.content}
              columns={COLUMNS}
              rowKey={(v) => String(v.id)}
            />
            {result.totalPages > 1 && (
              <nav className="pager" aria-label="Pages of violations">
                {!result.first && (
                  <button type="button" className="button secondary" onClick={() => onPage(page - 1)}>
                    Newer
                  </button>
                )}
                {!result.last && (
                  <button type="button" className="button secondary" onClick={() => onPage(page + 1)}>
                    Older
                  </button>
                )}
              </nav>
            )}
          </>
        )
      }
    </Loaded>
  );
}

export function ViolationsPage() {
  const { api, teams } = useSignedIn();
  const { location, navigate } = useRouter();
  const filters = filtersOf(location.query);
  const page = Math.max(0, Number(location.query.get('page')) || 0);
  const organisation = useOrganisation();
  const types = useLoad(() => api.violationTypes(), []);
  const go = (next: Filters, toPage = 0) => navigate(hrefOf(next, toPage));

  return (
    <section>
      <h1>Violations</h1>
      <p>
        What fullstop. found in your teams’ AWS accounts that breaks the platform’s rules. Resolve a violation
        with a comment, or accept a known risk for a while.
      </p>
      <ViolationsTabs current="violations" team={filters.team} />
      {teams.length === 0 && !filters.team && (
        <p className="notice">You are in no team yet: choose a team to see its violations.</p>
      )}
      <Trend team={filters.team} days={filters.days} onDays={(days) => go({ ...filters, days }, page)} />
      <section aria-labelledby="list-heading" className="reserve">
        <h2 id="list-heading">{filters.status === 'checked' ? 'Resolved or accepted' : 'Open violations'}</h2>
        {organisation.status === 'error' ? (
          <ErrorNotice error={organisation.error} retry={organisation.retry} />
        ) : organisation.status === 'loading' || types.status === 'loading' ? (
          <Loading label="Loading the filters…" />
        ) : types.status === 'error' ? (
          <ErrorNotice error={types.error} retry={types.retry} />
        ) : (
          (() => {
            const teamAccounts = accountsOfTeam(organisation.data.accounts, filters.team, teams);
            const query = queryOf(filters, teamAccounts, page);
            return (
              <>
                <FilterForm
                  key={JSON.stringify(filters)}
                  initial={filters}
                  accounts={teamAccounts}
                  types={types.data}
                  allTeams={organisation.data.teams}
                  onApply={(next) => go(next)}
                />
                {query ? (
                  <ViolationList query={query} page={page} onPage={(p) => go(filters, p)} />
                ) : (
                  <Empty
                    title={
                      filters.team
                        ? `Team ${filters.team} owns no AWS account.`
                        : 'Your teams own no AWS account.'
                    }
                  />
                )}
              </>
            );
          })()
        )}
      </section>
    </section>
  );
}
