import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { ApiError } from './api/api-error';
import { HttpClient, type TokenSource } from './api/http-client';
import { type Api, createApi } from './api/services';
import type { Team, UserInfo } from './api/types';
import {
  beginLogin,
  beginLogout,
  completeLogin,
  isLogoutReturn,
  LoginError,
  loadTokens,
  NoSingleSignOn,
  refreshTokens,
  revokeTokens,
  saveTokens,
  shouldTrySilentLogin,
  type SignOutChannel,
  signOutChannel,
  type Tokens,
} from './auth/session';
import { type ClientConfig, loadConfig } from './config';
import { useRouter } from './router';

export type SessionState =
  | { status: 'starting' }
  | { status: 'failed'; message: string }
  | { status: 'signed-out'; config: ClientConfig; message?: string }
  | {
      status: 'signed-in';
      config: ClientConfig;
      user: UserInfo;
      teams: Team[];
      teamsError?: string;
      /** A platform administrator: the team service lets them read the audit log. */
      admin: boolean;
    };

interface Session {
  state: SessionState;
  api: Api;
  signIn: () => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** Refresh a minute before expiry, so that a request never leaves with a token about to die. */
const EXPIRY_MARGIN_MS = 60_000;

export function SessionProvider({ children }: { children: ReactNode }) {
  const { location, navigate } = useRouter();
  const [state, setState] = useState<SessionState>({ status: 'starting' });
  const tokens = useRef<Tokens | undefined>(undefined);
  const config = useRef<ClientConfig | undefined>(undefined);
  const refreshing = useRef<Promise<boolean> | undefined>(undefined);

  const signedOut = useCallback((message?: string) => {
    tokens.current = undefined;
    saveTokens(undefined);
    if (config.current)
      setState({ status: 'signed-out', config: config.current, ...(message ? { message } : {}) });
  }, []);

  const source = useMemo<TokenSource>(() => {
    const refresh = () => {
      refreshing.current ??= (async () => {
        const fresh =
          config.current && tokens.current ? await refreshTokens(config.current, tokens.current) : undefined;
        tokens.current = fresh;
        saveTokens(fresh);
        return fresh !== undefined;
      })().finally(() => {
        refreshing.current = undefined;
      });
      return refreshing.current;
    };
    return {
      refresh,
      async accessToken() {
        if (tokens.current && tokens.current.expiresAt - EXPIRY_MARGIN_MS < Date.now()) await refresh();
        return tokens.current?.accessToken;
      },
      expired: () => signedOut('Your session has ended. Sign in again to continue.'),
    };
  }, [signedOut]);

  const api = useMemo(
    () =>
      createApi(new HttpClient((service) => config.current?.services[service] ?? `/api/${service}`, source)),
    [source],
  );

  const enter = useCallback(
    async (cfg: ClientConfig) => {
      const user = await api.userInfo();
      let teams: Team[] = [];
      let teamsError: string | undefined;
      // The server decides who is an administrator: one audit event read answers it (403 for others).
      const [teamsAnswer, admin] = await Promise.all([
        api.teamsOf(user.sub).then(
          (list) => ({ list }),
          (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
        ),
        api.auditEvents({ limit: 1 }).then(
          () => true,
          () => false,
        ),
      ]);
      if ('list' in teamsAnswer) teams = teamsAnswer.list;
      else teamsError = teamsAnswer.error;
      setState({
        status: 'signed-in',
        config: cfg,
        user,
        teams,
        admin,
        ...(teamsError ? { teamsError } : {}),
      });
    },
    [api],
  );

  useEffect(() => {
    // An object, so that the cleanup's write is visible to the checks in the async body.
    const effect = { cancelled: false };
    void (async () => {
      let cfg: ClientConfig;
      try {
        cfg = await loadConfig();
      } catch {
        setState({
          status: 'failed',
          message: 'The console cannot load its settings from its server. Reload the page in a moment.',
        });
        return;
      }
      config.current = cfg;
      try {
        if (window.location.pathname === cfg.redirectPath && isLogoutReturn(window.location.href)) {
          navigate('/', { replace: true });
          return signedOut('You are signed out.');
        }
        if (window.location.pathname === cfg.redirectPath) {
          const done = await completeLogin(cfg, window.location.href);
          tokens.current = done.tokens;
          navigate(done.returnTo, { replace: true });
        } else {
          tokens.current = loadTokens();
          if (!tokens.current && shouldTrySilentLogin() && (await tokenServiceAnswers(cfg))) {
            // Signed in at the token service already (another tab)? Then no password is asked.
            const here = `${window.location.pathname}${window.location.search}`;
            window.location.assign(
              await beginLogin(cfg, here, sessionStorage, window.location.origin, { silent: true }),
            );
            return undefined;
          }
          if (!tokens.current) return signedOut();
        }
        if (!effect.cancelled) await enter(cfg);
      } catch (error) {
        if (error instanceof NoSingleSignOn) {
          navigate(error.returnTo, { replace: true });
          return signedOut();
        }
        if (error instanceof LoginError) {
          if (window.location.pathname === cfg.redirectPath) navigate('/', { replace: true });
          // A reloaded or revisited callback page while still signed in: carry on with the session.
          const existing = loadTokens();
          if (existing && !effect.cancelled) {
            tokens.current = existing;
            await enter(cfg).catch(() => signedOut(error.message));
            return undefined;
          }
          return signedOut(error.message);
        }
        if (error instanceof ApiError && error.status === 401) return signedOut(error.message);
        setState({ status: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
      return undefined;
    })();
    return () => {
      effect.cancelled = true;
    };
    // Runs once per page load: the callback URL is only read at start.
  }, []);

  const signIn = useCallback(async () => {
    if (!config.current) return;
    const here = `${location.path}${location.query.size ? `?${location.query}` : ''}`;
    window.location.assign(await beginLogin(config.current, here));
  }, [location]);

  // Another tab signed out: the token service's session is gone, so this tab's tokens go too.
  const channel = useRef<SignOutChannel | undefined>(undefined);
  useEffect(() => {
    const opened = signOutChannel(() => {
      const old = tokens.current;
      signedOut('You signed out in another tab.');
      if (old && config.current) void revokeTokens(config.current, old);
    });
    channel.current = opened;
    return () => opened.close();
  }, [signedOut]);

  /**
   * Revokes this tab's refresh token, tells the other tabs, and ends the token service's sign-in
   * session through its end-session endpoint, which sends the browser back signed out.
   */
  const signOut = useCallback(async () => {
    const old = tokens.current;
    tokens.current = undefined;
    saveTokens(undefined);
    channel.current?.announce();
    if (!config.current) return;
    if (old) await revokeTokens(config.current, old);
    window.location.assign(beginLogout(config.current, old));
  }, []);

  const session = useMemo(() => ({ state, api, signIn, signOut }), [state, api, signIn, signOut]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/**
 * Whether the token service answers (its discovery document, through the console's proxy): a
 * silent sign-in must not leave the person on a browser error page when it is down.
 */
async function tokenServiceAnswers(config: ClientConfig): Promise<boolean> {
  try {
    const response = await fetch(`${config.services['token-service']}/.well-known/openid-configuration`, {
      headers: { accept: 'application/json' },
    });
    return response.ok;
  } catch {
    return false;
  }
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new TypeError('useSession needs a SessionProvider');
  return session;
}

/** For pages that only render when signed in. */
export function useSignedIn() {
  const session = useSession();
  if (session.state.status !== 'signed-in') throw new TypeError('useSignedIn outside the signed-in app');
  return {
    ...session,
    user: session.state.user,
    teams: session.state.teams,
    config: session.state.config,
    admin: session.state.admin,
  };
}
