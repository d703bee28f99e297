import type { ReactNode } from 'react';
import type { Load } from '../use-load';

/** Announced to screen readers; shown after a short delay would be nicer, but honest beats clever. */
export function Loading({ label }: { label: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function ErrorNotice({ error, retry }: { error: Error | string; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{typeof error === 'string' ? error : error.message}</p>
      {retry && (
        <button type="button" className="button secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children}
    </div>
  );
}

/** Renders the three states of a load; `children` only sees the data. */
export function Loaded<T>({
  state,
  label,
  children,
}: {
  state: Load<T>;
  label: string;
  children: (data: T, reload: () => void) => ReactNode;
}) {
  if (state.status === 'loading') return <Loading label={label} />;
  if (state.status === 'error') return <ErrorNotice error={state.error} retry={state.retry} />;
  return <>{children(state.data, state.reload)}</>;
}
