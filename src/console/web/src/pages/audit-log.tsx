import { type FormEvent, useState } from 'react';
import type { AuditEvent, AuditQuery } from '../api/types';
import { type Column, ListTable } from '../components/list-table';
import { Empty, ErrorNotice, Loaded } from '../components/states';
import { auditCsv } from '../lib/csv';
import { formatTimestamp } from '../lib/format';
import { useRouter } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/*
 * The platform's audit log for administrators: who did what, where, when, and whether it was
 * allowed. The filters live in the address, so a filtered view can be shared as a link.
 */

const PAGE_SIZES = ['10', '25', '50', '100'] as const;
const DEFAULT_PAGE_SIZE = '50';
/** The export reads pages of the service's maximum size, up to this many events. */
const EXPORT_PAGE = 1000;
const EXPORT_MAX = 20_000;

const FILTERS = ['actor', 'service', 'action', 'from', 'to', 'limit'] as const;
type Filter = (typeof FILTERS)[number];
type Filters = Record<Filter, string>;

/** `2026-01-31T10:00` (a datetime-local value, taken as UTC) → ISO; empty stays empty. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(`${local}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function queryOf(filters: Filters): AuditQuery {
  const query: AuditQuery = {};
  for (const key of ['actor', 'service', 'action'] as const) {
    const value = filters[key].trim();
    if (value) query[key] = value;
  }
  const from = isoOf(filters.from);
  const to = isoOf(filters.to);
  if (from) query.from = from;
  if (to) query.to = to;
  return query;
}

function target(e: AuditEvent): string {
  if (!e.target_type && !e.target_id) return '—';
  return [e.target_type, e.target_id].filter(Boolean).join(' ');
}

const COLUMNS: Column<AuditEvent>[] = [
  { header: 'Time (UTC)', cell: (e) => formatTimestamp(e.occurred_at), className: 'nowrap' },
  { header: 'Component', cell: (e) => <code>{e.service}</code> },
  { header: 'Action', cell: (e) => <code>{e.action}</code> },
  {
    header: 'Actor',
    cell: (e) => (
      <>
        <code>{e.actor}</code>
        {e.actor_realm && <span className="muted block">{e.actor_realm}</span>}
      </>
    ),
  },
  { header: 'Target', cell: (e) => target(e), className: 'reason' },
  {
    header: 'Outcome',
    cell: (e) => (
      <span className={`status status-${e.outcome === 'success' ? 'granted' : 'denied'}`}>{e.outcome}</span>
    ),
  },
];

function FilterForm({ initial, onApply }: { initial: Filters; onApply: (filters: Filters) => void }) {
  const [filters, setFilters] = useState(initial);
  const set = (key: Filter) => (e: { target: { value: string } }) =>
    setFilters((f) => ({ ...f, [key]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(filters);
  };
  const input = (key: Filter, label: string, type: 'text' | 'datetime-local', placeholder?: string) => (
    <div className="field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input
        id={`audit-${key}`}
        type={type}
        value={filters[key]}
        spellCheck={false}
        autoComplete="off"
        {...(placeholder ? { placeholder } : {})}
        onChange={set(key)}
      />
    </div>
  );
  return (
    <form className="filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
      {input('actor', 'Actor', 'text', 'jdoe')}
      {input('service', 'Component', 'text', 'kio')}
      {input('action', 'Action', 'text', 'kio.application.put')}
      {input('from', 'From (UTC)', 'datetime-local')}
      {input('to', 'To (UTC)', 'datetime-local')}
      <div className="field">
        <label htmlFor="audit-limit">Per page</label>
        <select id="audit-limit" value={filters.limit || DEFAULT_PAGE_SIZE} onChange={set('limit')}>
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      </div>
      <div className="actions">
        <button type="submit" className="button">
          Apply filters
        </button>
      </div>
    </form>
  );
}

function downloadCsv(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL; freeing it at once can cancel it in some browsers.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ExportButton({ query }: { query: AuditQuery }) {
  const { api } = useSignedIn();
  const [state, setState] = useState<{ busy: boolean; said: string }>({ busy: false, said: '' });
  const run = async () => {
    setState({ busy: true, said: 'Exporting…' });
    try {
      const events: AuditEvent[] = [];
      let before: string | undefined;
      while (events.length < EXPORT_MAX) {
        const page = await api.auditEvents({ ...query, limit: EXPORT_PAGE, ...(before ? { before } : {}) });
        events.push(...page);
        const last = page.at(-1);
        if (page.length < EXPORT_PAGE || !last) break;
        before = last.id;
      }
      const capped = events.slice(0, EXPORT_MAX);
      downloadCsv(
        auditCsv(capped),
        `audit-log-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`,
      );
      setState({
        busy: false,
        said:
          events.length >= EXPORT_MAX
            ? `Exported the newest ${EXPORT_MAX} events; narrow the filters for older ones.`
            : `Exported ${capped.length} events.`,
      });
    } catch (error) {
      setState({
        busy: false,
        said: `The export failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  };
  return (
    <div className="export">
      <button type="button" className="button secondary" disabled={state.busy} onClick={() => void run()}>
        Export CSV
      </button>
      <span className="muted" role="status" aria-live="polite">
        {state.said}
      </span>
    </div>
  );
}

export function AuditLogPage() {
  const { api, admin } = useSignedIn();
  const { location, navigate } = useRouter();
  const q = location.query;
  const filters: Filters = {
    actor: q.get('actor') ?? '',
    service: q.get('service') ?? '',
    action: q.get('action') ?? '',
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
    limit: PAGE_SIZES.find((size) => size === q.get('limit')) ?? '',
  };
  const pageSize = Number(filters.limit || DEFAULT_PAGE_SIZE);
  const before = location.query.get('before') ?? undefined;
  const query = queryOf(filters);
  const key = JSON.stringify(query);
  const state = useLoad(
    async (signal) =>
      admin ? api.auditEvents({ ...query, limit: pageSize, ...(before ? { before } : {}) }, signal) : [],
    [key, before, admin, pageSize],
  );
  const go = (next: Filters, page?: string) => {
    const params = new URLSearchParams();
    for (const k of FILTERS) if (next[k].trim()) params.set(k, next[k].trim());
    if (page) params.set('before', page);
    navigate(`/audit${params.size ? `?${params}` : ''}`);
  };

  return (
    <section>
      <h1>Audit log</h1>
      {!admin ? (
        <ErrorNotice error="Only platform administrators may read the audit log." />
      ) : (
        <>
          <p>Every change on the platform and every refused attempt, newest first.</p>
          <FilterForm key={key} initial={filters} onApply={(next) => go(next)} />
          <ExportButton query={query} />
          <section aria-labelledby="events-heading" className="reserve">
            <h2 id="events-heading">{before ? 'Older events' : 'Events'}</h2>
            <Loaded state={state} label="Loading the audit log…">
              {(events) =>
                events.length === 0 ? (
                  <Empty title={before ? 'No older events.' : 'No event matches these filters.'} />
                ) : (
                  <>
                    <ListTable
                      caption={`Audit events ${events.length === pageSize ? `(${pageSize} per page)` : ''}`.trim()}
                      rows={events}
                      columns={COLUMNS}
                      rowKey={(e) => e.id}
                    />
                    <nav className="pager" aria-label="Pages of the audit log">
                      {before && (
                        <button type="button" className="button secondary" onClick={() => go(filters)}>
                          Newest events
                        </button>
                      )}
                      {events.length === pageSize && (
                        <button
                          type="button"
                          className="button secondary"
                          onClick={() => go(filters, events.at(-1)?.id)}
                        >
                          Older events
                        </button>
                      )}
                    </nav>
                  </>
                )
              }
            </Loaded>
          </section>
        </>
      )}
    </section>
  );
}
