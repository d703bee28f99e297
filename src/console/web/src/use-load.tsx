import { type DependencyList, useCallback, useEffect, useState } from 'react';

export type Load<T> =
  | { status: 'loading' }
  | { status: 'error'; error: Error; retry: () => void }
  | { status: 'ready'; data: T; reload: () => void };

/** Runs `load` when `deps` change; stale answers of earlier runs are dropped. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Load<T> {
  const [state, setState] = useState<Load<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  const again = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    const controller = new AbortController();
    setState({ status: 'loading' });
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ready', data, reload: again });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({
          status: 'error',
          error: error instanceof Error ? error : new Error(String(error)),
          retry: again,
        });
      },
    );
    return () => controller.abort();
  }, [...deps, generation]);
  return state;
}

/**
 * Like `useLoad`, and then loads again every `intervalMs` while the tab is visible, keeping the
 * last answer on screen meanwhile (no spinner, no layout shift). A failed refresh keeps the last
 * data and says so in `stale`; the next refresh that works clears it.
 */
export function useLiveLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
  intervalMs: number,
): Load<T> & { stale?: string } {
  const state = useLoad(load, deps);
  const [live, setLive] = useState<{ data: T; stale?: string } | undefined>();
  useEffect(() => setLive(undefined), [state]);
  const first = state.status === 'ready' ? state.data : undefined;
  useEffect(() => {
    if (first === undefined) return undefined;
    const controller = new AbortController();
    let busy = false;
    const tick = () => {
      if (busy || document.visibilityState === 'hidden') return;
      busy = true;
      load(controller.signal)
        .then(
          (data) => {
            if (!controller.signal.aborted) setLive({ data });
          },
          (error: unknown) => {
            if (controller.signal.aborted) return;
            const message = error instanceof Error ? error.message : String(error);
            setLive((before) => ({ data: before ? before.data : first, stale: message }));
          },
        )
        .finally(() => {
          busy = false;
        });
    };
    const timer = window.setInterval(tick, intervalMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      controller.abort();
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [first, intervalMs, ...deps]);
  if (state.status !== 'ready' || !live) return state;
  return { ...state, data: live.data, ...(live.stale ? { stale: live.stale } : {}) };
}
