import {
  Component,
  type ComponentType,
  lazy,
  type ReactNode,
  Suspense,
  useEffect,
  useRef,
  useState,
} from 'react';
import { ErrorNotice, Loading } from './components/states';
// The two pages the shell shows without a route (signed out, unknown path): small, so not split off.
import { NotFoundPage } from './pages/not-found';
import { SignInPage } from './pages/sign-in';
import { Link, matchPath, path, useRouter } from './router';
import { useSession } from './session';

/**
 * A page loaded on first use, as a chunk of its own: the first load carries only the shell (router,
 * session, sidebar), whatever page it opens. Add a page the same way, never with a static import
 * (src/console/web-build.test.ts fails when app.tsx imports a page module statically).
 */
function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>) {
  let loading: Promise<ComponentType<P>> | undefined;
  const preload = () => (loading ??= load());
  return Object.assign(
    lazy(async () => ({ default: await preload() })),
    { preload },
  );
}

/** Starts loading the chunk of the page at `pathname`, so that it arrives while the session starts. */
function preloadRoute(pathname: string): void {
  const { element } = routeFor(pathname);
  const type = (element as { type?: { preload?: () => Promise<unknown> } } | null)?.type;
  // A failed preload is reported where it matters: when the page renders, by its chunk boundary.
  type?.preload?.().catch(() => undefined);
}

/** A page chunk that fails to load (offline, or the console was updated meanwhile) says so instead of a blank page. */
class PageChunkBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <ErrorNotice
        error="This page could not be loaded from the console's server. Reload to try again."
        retry={() => window.location.reload()}
      />
    );
  }
}

const AccessRequestsPage = lazyPage(() =>
  import('./pages/access-requests').then((m) => m.AccessRequestsPage),
);
const ApplicationDetailPage = lazyPage(() =>
  import('./pages/application-detail').then((m) => m.ApplicationDetailPage),
);
const ApplicationFormPage = lazyPage(() =>
  import('./pages/application-form').then((m) => m.ApplicationFormPage),
);
const ApplicationListPage = lazyPage(() =>
  import('./pages/application-list').then((m) => m.ApplicationListPage),
);
const ArtifactPage = lazyPage(() => import('./pages/artifact').then((m) => m.ArtifactPage));
const AuditLogPage = lazyPage(() => import('./pages/audit-log').then((m) => m.AuditLogPage));
const AwsAccountsPage = lazyPage(() => import('./pages/aws-accounts').then((m) => m.AwsAccountsPage));
const AwsRolesPage = lazyPage(() => import('./pages/aws-roles').then((m) => m.AwsRolesPage));
const ResourceTypeDetailPage = lazyPage(() =>
  import('./pages/resource-type-detail').then((m) => m.ResourceTypeDetailPage),
);
const ResourceTypeFormPage = lazyPage(() =>
  import('./pages/resource-type-form').then((m) => m.ResourceTypeFormPage),
);
const ResourceTypeListPage = lazyPage(() =>
  import('./pages/resource-type-list').then((m) => m.ResourceTypeListPage),
);
const ScopeDetailPage = lazyPage(() => import('./pages/scope-detail').then((m) => m.ScopeDetailPage));
const ScopeFormPage = lazyPage(() => import('./pages/scope-form').then((m) => m.ScopeFormPage));
const SearchPage = lazyPage(() => import('./pages/search').then((m) => m.SearchPage));
const SshKeysPage = lazyPage(() => import('./pages/ssh-keys').then((m) => m.SshKeysPage));
const PersonPage = lazyPage(() => import('./pages/teams').then((m) => m.PersonPage));
const TeamDetailPage = lazyPage(() => import('./pages/teams').then((m) => m.TeamDetailPage));
const TeamListPage = lazyPage(() => import('./pages/teams').then((m) => m.TeamListPage));

// fullstop's pages (and uPlot, which only they use): nothing on the first load.
const ViolationsPage = lazyPage(() => import('./pages/violations').then((m) => m.ViolationsPage));
const ViolationDetailPage = lazyPage(() =>
  import('./pages/violations-detail').then((m) => m.ViolationDetailPage),
);
const RiskAcceptancesPage = lazyPage(() =>
  import('./pages/violations-acceptances').then((m) => m.RiskAcceptancesPage),
);

const TracePage = lazyPage(() => import('./pages/trace').then((m) => m.TracePage));

const SandboxPage = lazyPage(() => import('./pages/sandbox').then((m) => m.SandboxPage));

type Route = [
  pattern: string,
  render: (params: Record<string, string>) => ReactNode,
  /** The page's part of the document title, most specific first (screen readers announce it). */
  title: (params: Record<string, string>) => string,
];

// Order matters: fixed segments (`new`) before parameters.
const ROUTES: Route[] = [
  ['/', () => <SearchPage />, () => 'Search'],
  ['/search', () => <SearchPage />, () => 'Search'],
  ['/applications', () => <ApplicationListPage />, () => 'Applications'],
  ['/applications/new', () => <ApplicationFormPage />, () => 'New application'],
  ['/applications/:id', (p) => <ApplicationDetailPage id={p.id!} />, (p) => `${p.id} · Applications`],
  ['/applications/:id/edit', (p) => <ApplicationFormPage id={p.id} />, (p) => `Edit ${p.id} · Applications`],
  [
    '/artifacts/:team/:artifact',
    (p) => <ArtifactPage team={p.team!} artifact={p.artifact!} />,
    (p) => `${p.team}/${p.artifact} · Images`,
  ],
  ['/resource-types', () => <ResourceTypeListPage />, () => 'Resource types'],
  ['/resource-types/new', () => <ResourceTypeFormPage />, () => 'New resource type'],
  ['/resource-types/:id', (p) => <ResourceTypeDetailPage id={p.id!} />, (p) => `${p.id} · Resource types`],
  [
    '/resource-types/:id/edit',
    (p) => <ResourceTypeFormPage id={p.id} />,
    (p) => `Edit ${p.id} · Resource types`,
  ],
  [
    '/resource-types/:id/scopes/new',
    (p) => <ScopeFormPage typeId={p.id!} />,
    (p) => `New scope · ${p.id} · Resource types`,
  ],
  [
    '/resource-types/:id/scopes/:scope',
    (p) => <ScopeDetailPage typeId={p.id!} scopeId={p.scope!} />,
    (p) => `${p.id}.${p.scope} · Resource types`,
  ],
  [
    '/resource-types/:id/scopes/:scope/edit',
    (p) => <ScopeFormPage typeId={p.id!} scopeId={p.scope} />,
    (p) => `Edit ${p.id}.${p.scope} · Resource types`,
  ],
  ['/teams', () => <TeamListPage />, () => 'Teams'],
  ['/teams/:id', (p) => <TeamDetailPage id={p.id!} />, (p) => `${p.id} · Teams`],
  ['/people/:uid', (p) => <PersonPage uid={p.uid!} />, (p) => `${p.uid} · People`],
  ['/ssh-keys', () => <SshKeysPage />, () => 'SSH keys'],
  ['/access-requests', () => <AccessRequestsPage />, () => 'Access requests'],
  ['/aws-accounts', () => <AwsAccountsPage />, () => 'AWS accounts'],
  ['/aws-roles', () => <AwsRolesPage />, () => 'AWS accounts and roles'],
  ['/audit', () => <AuditLogPage />, () => 'Audit log'],
  ['/sandbox', () => <SandboxPage />, () => 'Sandbox accounts'],
  ['/trace', () => <TracePage />, () => 'Trace'],
  ['/violations', () => <ViolationsPage />, () => 'Violations'],
  ['/violations/risk-acceptances', () => <RiskAcceptancesPage />, () => 'Risk acceptances · Violations'],
  ['/violations/:id', (p) => <ViolationDetailPage id={p.id!} />, (p) => `${p.id} · Violations`],
];

const APP_TITLE = 'STUPS console';

function routeFor(pathname: string): { key: string; element: ReactNode; title: string } {
  for (const [pattern, render, title] of ROUTES) {
    const params = matchPath(pattern, pathname);
    if (params) return { key: pattern, element: render(params), title: title(params) };
  }
  return { key: 'not-found', element: <NotFoundPage />, title: 'Not found' };
}

/**
 * Moves focus to the page's heading. A heading still loading (the page's chunk or its data) gets it
 * when it appears; until then the main region holds it, never <body>. Answers a function that stops
 * waiting (the next navigation). Focus someone moved meanwhile stays where they put it.
 */
function focusPage(main: HTMLElement | null): () => void {
  if (!main) return () => undefined;
  const focusHeading = () => {
    const heading = main.querySelector('h1');
    if (!heading) return false;
    heading.setAttribute('tabindex', '-1');
    heading.focus();
    return true;
  };
  if (focusHeading()) return () => undefined;
  main.focus();
  const observer = new MutationObserver(() => {
    if (document.activeElement !== main || focusHeading()) observer.disconnect();
  });
  observer.observe(main, { childList: true, subtree: true });
  return () => observer.disconnect();
}

const NAV = [
  { to: '/search', label: 'Search', section: ['/', '/search'] },
  { to: '/applications', label: 'Applications', section: ['/applications', '/artifacts'] },
  { to: '/resource-types', label: 'Resource types', section: ['/resource-types'] },
  { to: '/teams', label: 'Teams', section: ['/teams', '/people'] },
  { to: '/ssh-keys', label: 'SSH keys', section: ['/ssh-keys'] },
  { to: '/access-requests', label: 'Access requests', section: ['/access-requests'] },
  { to: '/aws-accounts', label: 'AWS accounts', section: ['/aws-accounts'] },
  { to: '/aws-roles', label: 'AWS roles', section: ['/aws-roles'] },
  { to: '/violations', label: 'Violations', section: ['/violations'] },
  { to: '/trace', label: 'Trace', section: ['/trace'] },
  { to: '/sandbox', label: 'Sandbox accounts', section: ['/sandbox'] },
  // Only administrators may read it: the others do not see the entry.
  { to: '/audit', label: 'Audit log', section: ['/audit'], admin: true },
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
        {NAV.filter((item) => !item.admin || state.admin).map((item) => (
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
              <li key={t.id}>
                <Link to={path('teams', t.id)} title={t.name} onClick={onNavigate}>
                  {t.id}
                </Link>
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
  useState(() => preloadRoute(window.location.pathname));
  const { state } = useSession();
  const { location } = useRouter();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  const menuButton = useRef<HTMLButtonElement>(null);

  // After in-app navigation, move focus to the new page as a page load would: to its heading,
  // never left on <body>, where a screen reader user would start over.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    setMenuOpen(false);
    return focusPage(main.current);
  }, [location.path]);

  // Signing out replaces the page without a navigation: focus follows to the sign-in page.
  const previousStatus = useRef(state.status);
  useEffect(() => {
    const before = previousStatus.current;
    previousStatus.current = state.status;
    if (before === 'signed-in' && state.status === 'signed-out') return focusPage(main.current);
    return undefined;
  }, [state.status]);

  // Escape closes the phone menu and hands focus back to the button that opened it.
  useEffect(() => {
    if (!menuOpen) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  let content: ReactNode;
  let title: string | undefined;
  if (state.status === 'starting') content = <Loading label="Starting the console…" />;
  else if (state.status === 'failed') {
    content = <ErrorNotice error={state.message} retry={() => window.location.reload()} />;
    title = 'Unavailable';
  } else if (state.status === 'signed-out') {
    content = <SignInPage message={state.message} />;
    title = 'Sign in';
  } else {
    const route = routeFor(location.path);
    // While a page's chunk loads, the same placeholder its data load shows: nothing moves when either arrives.
    content = (
      <div key={`${route.key}:${location.path}`}>
        <PageChunkBoundary>
          <Suspense fallback={<Loading label="Loading the page…" />}>{route.element}</Suspense>
        </PageChunkBoundary>
      </div>
    );
    title = route.title;
  }
  const documentTitle = title ? `${title} · ${APP_TITLE}` : APP_TITLE;
  useEffect(() => {
    document.title = documentTitle;
  }, [documentTitle]);

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
            ref={menuButton}
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
