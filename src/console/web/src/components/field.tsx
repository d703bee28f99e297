import type { ReactNode } from 'react';

/** A labelled form control with its hint and its problem, wired up for screen readers. */
export function Field({
  id,
  label,
  hint,
  problem,
  status,
  required,
  children,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  problem?: string | undefined;
  /** A live status line under the control, e.g. the id check. */
  status?: ReactNode;
  required?: boolean;
  children: (describedBy: string | undefined, invalid: boolean) => ReactNode;
}) {
  const described = [hint ? `${id}-hint` : '', problem ? `${id}-problem` : '', status ? `${id}-status` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={`field${problem ? ' invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {required && <span className="required"> (required)</span>}
      </label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children(described || undefined, Boolean(problem))}
      {problem && (
        <p className="problem" id={`${id}-problem`}>
          {problem}
        </p>
      )}
      {status !== undefined && (
        <p className="field-status" id={`${id}-status`} aria-live="polite">
          {status}
        </p>
      )}
    </div>
  );
}

/** A value from a service, shown as a link only when it is an http(s) address. */
export function MaybeLink({ href, children }: { href: string | undefined; children: ReactNode }) {
  return href ? (
    <a href={href} rel="noopener noreferrer" target="_blank">
      {children}
    </a>
  ) : (
    <>{children}</>
  );
}
