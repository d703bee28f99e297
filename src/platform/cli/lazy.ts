/**
 * A command implementation loaded when a command runs, not when the CLI starts, so that
 * `--help` and every other command stay fast: `const actions = lazy(() => import('./actions.js'))`,
 * then `(await actions()).run(…)` in the command's action. Every CLI defers its heavy modules
 * (zod schemas, HTTP clients, jose, the platform runtime) this one way. The module is loaded
 * once; a failed load is tried again on the next call.
 */
export function lazy<M>(load: () => Promise<M>): () => Promise<M> {
  let loading: Promise<M> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}
