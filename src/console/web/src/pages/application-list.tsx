import { useCallback, useEffect, useState } from 'react';
import type { Application } from '../api/types';
import { Empty, ErrorNotice, Loaded, Loading } from '../components/states';
import { plural } from '../lib/format';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

const PAGE_SIZE = 100;

function matches(app: Application, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  return !f || `${app.id} ${app.name} ${app.team_id} ${app.subtitle ?? ''}`.toLowerCase().includes(f);
}

function ApplicationTable({ apps, caption }: { apps: Application[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Team</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {apps.map((app) => (
            <tr key={app.id}>
              <td>
                <Link to={path('applications', app.id)}>{app.name}</Link>
                {app.subtitle && <span className="muted block">{app.subtitle}</span>}
              </td>
              <td>
                <code>{app.id}</code>
              </td>
              <td>{app.team_id}</td>
              <td>{app.active ? 'active' : <span className="badge">inactive</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OwnApplications({ filter, onSettled }: { filter: string; onSettled: () => void }) {
  const { api, teams } = useSignedIn();
  const ids = teams.map((t) => t.id);
  const state = useLoad(
    async (signal) =>
      (await Promise.all(ids.map((team_id) => api.listApplications({ team_id }, signal))))
        .flat()
        .sort((a, b) => a.name.localeCompare(b.name)),
    [ids.join(',')],
  );
  const settled = ids.length === 0 || state.status !== 'loading';
  useEffect(() => {
    if (settled) onSettled();
  }, [settled, onSettled]);
  if (ids.length === 0) {
    return (
      <Empty title="You are in no team, so no application is yours.">
        Ask a platform administrator to add you to your team.
      </Empty>
    );
  }
  return (
    <Loaded state={state} label="Loading your team's applications…">
      {(apps) => {
        const shown = apps.filter((a) => matches(a, filter));
        if (apps.length === 0) {
          return (
            <Empty title={`Team ${ids.join(', ')} has no application yet.`}>
              <Link to="/applications/new" className="button">
                Create the first one
              </Link>
            </Empty>
          );
        }
        if (shown.length === 0)
          return <Empty title={`None of your ${plural(apps.length, 'application')} matches.`} />;
        return <ApplicationTable apps={shown} caption="Your team's applications" />;
      }}
    </Loaded>
  );
}

/** Others' applications, a page at a time: an installation may have many thousands. */
function OtherApplications({ filter }: { filter: string }) {
  const { api, teams } = useSignedIn();
  const own = new Set(teams.map((t) => t.id));
  const [pages, setPages] = useState(1);
  const state = useLoad(
    async (signal) => {
      const batch = await api.listApplications({ limit: PAGE_SIZE * pages + 1, offset: 0 }, signal);
      return { apps: batch.slice(0, PAGE_SIZE * pages), more: batch.length > PAGE_SIZE * pages };
    },
    [pages],
  );
  if (state.status === 'loading' && pages > 1) return <Loading label="Loading more applications…" />;
  if (state.status === 'error') return <ErrorNotice error={state.error} retry={state.retry} />;
  return (
    <Loaded state={state} label="Loading other teams' applications…">
      {({ apps, more }) => {
        const others = apps.filter((a) => !own.has(a.team_id));
        const shown = others.filter((a) => matches(a, filter));
        return (
          <>
            {others.length === 0 ? (
              <Empty title="No other team has an application yet." />
            ) : shown.length === 0 ? (
              <Empty title="No application of other teams matches." />
            ) : (
              <ApplicationTable apps={shown} caption="Other teams' applications" />
            )}
            {more && (
              <button type="button" className="button secondary" onClick={() => setPages((p) => p + 1)}>
                Show more
              </button>
            )}
          </>
        );
      }}
    </Loaded>
  );
}

export function ApplicationListPage() {
  const [filter, setFilter] = useState('');
  // Other teams' list loads at once but shows only below a settled list of one's own: shown earlier,
  // it would be pushed down the screen when one's own arrives (a layout shift Lighthouse counted).
  const [ownSettled, setOwnSettled] = useState(false);
  const settleOwn = useCallback(() => setOwnSettled(true), []);
  return (
    <section>
      <div className="page-header">
        <h1>Applications</h1>
        <Link to="/applications/new" className="button">
          New application
        </Link>
      </div>
      <div className="filter">
        <label htmlFor="app-filter">Filter by id, name or team</label>
        <input id="app-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <section aria-labelledby="own-heading">
        <h2 id="own-heading">Your team's applications</h2>
        <OwnApplications filter={filter} onSettled={settleOwn} />
      </section>
      <section aria-labelledby="other-heading" hidden={!ownSettled}>
        <h2 id="other-heading">Other teams' applications</h2>
        <OtherApplications filter={filter} />
      </section>
    </section>
  );
}
