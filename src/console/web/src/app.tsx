import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ErrorNotice, Loading } from './components/states';
import { ApplicationDetailPage } from './pages/application-detail';
import { ApplicationFormPage } from './pages/application-form';
import { ApplicationListPage } from './pages/application-list';
import { ArtifactPage } from './pages/artifact';
import { NotFoundPage } from './pages/not-found';
import { ResourceTypeDetailPage } from './pages/resource-type-detail';
import { ResourceTypeFormPage } from './pages/resource-type-form';
import { ResourceTypeListPage } from './pages/resource-type-list';
import { ScopeDetailPage } from './pages/scope-detail';
import { ScopeFormPage } from './pages/scope-form';
import { SearchPage } from './pages/search';
import { SignInPage } from './pages/sign-in';
import { Link, matchPath, useRouter } from './router';
import { useSession } from './session';

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode];

// Order matters: fixed segments (`new`) before parameters.
const ROUTES: Route[] = [
  ['/', () => <SearchPage />],
  ['/search', () => <SearchPage />],
  ['/applications', () => <ApplicationListPage />],
  ['/applications/new', () => <ApplicationFormPage />],
  ['/applications/:id', (p) => <ApplicationDetailPage id={p.id!} />],
  ['/applications/:id/edit', (p) => <ApplicationFormPage id={p.id} />],
  ['/artifacts/:team/:artifact', (p) => <ArtifactPage team={p.team!} artifact={p.artifact!} />],
  ['/resource-types', () => <ResourceTypeListPage />],
  ['/resource-types/new', () => <ResourceTypeFormPage />],
  ['/resource-types/:id', (p) => <ResourceTypeDetailPage id={p.id!} />],
  ['/resource-types/:id/edit', (p) => <ResourceTypeFormPage id={p.id} />],
  ['/resource-types/:id/scopes/new', (p) => <ScopeFormPage typeId={p.id!} />],
  ['/resource-types/:id/scopes/:scope', (p) => <ScopeDetailPage typeId={p.id!} scopeId={p.scope!} />],
  ['/resource-types/:id/scopes/:scope/edit', (p) => <ScopeFormPage typeId={p.id!} scopeId={p.scope} />],
];

function routeFor(pathname: string): { key: string; element: ReactNode } {
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, pathname);
    if (params) return { key: pattern, element: render(params) };
  }
  return { key: 'not-found', element: <NotFoundPage /> };
}

const NAV = [
  { to: '/search', label: 'Search', section: ['/', '/search'] },
  { to: '/applications', label: 'Applications', section: ['/applications', '/artifacts'] },
  { to: '/resource-types', label: 'Resource types', section: ['/resource-types'] },
];

function Sidebar({ open, onNavigate }: { open: boolean; onNavigate: () => void }) {
  const { state, signOut } = useSession();
  const { location } = useRouter();
  if (state.status !== 'signed-in') return null;
  const { user, teams } = state;
  const active = (section: string[]) =>
    section.some((s) => (s === '/' ? location.path === '/' : location.path.startsWith(s)));
  return (
    <nav id="sidebar" className={`sidebar${open ? ' open' : ''}`} aria-label="Main">
      <ul className="nav">
        {NAV.map((item) => (
          <li key={item.to}>
            <Link
              to={item.to}
              onClick={onNavigate}
              {...(active(item.section) ? { 'aria-current': 'page' as const } : {})}
            >
              {item.label}
            </Link>
          </li>
        ))}
      </ul>
      <section className="who" aria-label="Signed in">
        <p className="who-name">{user.name ?? user.sub}</p>
        <p className="who-uid">{user.sub}</p>
        {user.email && <p className="who-email">{user.email}</p>}
        <p className="who-teams-label">Teams</p>
        {state.teamsError ? (
          <p className="who-teams-error">{state.teamsError}</p>
        ) : teams.length ? (
          <ul className="who-teams">
            {teams.map((t) => (
              <li key={t.id} title={t.name}>
                {t.id}
              </li>
            ))}
          </ul>
        ) : (
          <p className="who-teams-none">You are in no team yet.</p>
        )}
        <button type="button" className="button secondary small" onClick={() => void signOut()}>
          Sign out
        </button>
      </section>
    </nav>
  );
}

export function App() {
  const { state } = useSession();
  const { location } = useRouter();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After in-app navigation, move focus to the new page's heading, as a page load would.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setMenuOpen(false);
    const heading = main.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }, [location.path]);

  let content: ReactNode;
  if (state.status === 'starting') content = <Loading label="Starting the console…" />;
  else if (state.status === 'failed')
    content = <ErrorNotice error={state.message} retry={() => window.location.reload()} />;
  else if (state.status === 'signed-out') content = <SignInPage message={state.message} />;
  else {
    const route = routeFor(location.path);
    content = <div key={`${route.key}:${location.path}`}>{route.element}</div>;
  }

  return (
    <div className="layout">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          YOUR TURN <span className="brand-sub">STUPS console</span>
        </Link>
        {state.status === 'signed-in' && (
          <button
            type="button"
            className="menu-button"
            aria-expanded={menuOpen}
            aria-controls="sidebar"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
        )}
      </header>
      <Sidebar open={menuOpen} onNavigate={() => setMenuOpen(false)} />
      <main id="main" ref={main} tabIndex={-1}>
        {content}
      </main>
    </div>
  );
}
