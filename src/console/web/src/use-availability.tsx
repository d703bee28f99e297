import { useEffect, useState } from 'react';

export type Availability =
  | { kind: 'empty' }
  | { kind: 'invalid'; message: string }
  | { kind: 'checking' }
  | { kind: 'free' }
  | { kind: 'taken' }
  /** Free, but the service would refuse this person's write: why, in words. */
  | { kind: 'refused'; message: string }
  | { kind: 'unknown'; message: string };

/**
 * Checks, while the person types, that an id is well-formed and not taken yet. The service
 * is asked only after typing pauses for `delayMs`, and only the latest answer counts.
 */
export function useAvailability(
  id: string,
  problemOf: (id: string) => string | undefined,
  exists: (id: string, signal: AbortSignal) => Promise<boolean | { refused: string }>,
  delayMs = 300,
): Availability {
  const [state, setState] = useState<Availability>({ kind: 'empty' });
  useEffect(() => {
    if (id === '') {
      setState({ kind: 'empty' });
      return undefined;
    }
    const problem = problemOf(id);
    if (problem) {
      setState({ kind: 'invalid', message: problem });
      return undefined;
    }
    setState({ kind: 'checking' });
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      exists(id, controller.signal).then(
        (taken) => {
          if (controller.signal.aborted) return;
          if (typeof taken === 'object') setState({ kind: 'refused', message: taken.refused });
          else setState({ kind: taken ? 'taken' : 'free' });
        },
        (error: unknown) => {
          if (!controller.signal.aborted) {
            setState({ kind: 'unknown', message: error instanceof Error ? error.message : String(error) });
          }
        },
      );
    }, delayMs);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
    // problemOf and exists are stable module functions or API methods.
  }, [id, delayMs]);
  return state;
}
