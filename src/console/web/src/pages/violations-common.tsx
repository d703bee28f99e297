import type { ReactNode } from 'react';
import type { AwsAccount, Team, Violation } from '../api/types';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import './violations.css';

/*
 * What the violations pages share: the words for severity and priority (never colour alone),
 * which accounts a team owns, and the team selector.
 */

/** fullstop's severity 0 (lowest) … 4 (highest). */
export const SEVERITY_LABELS = ['Info', 'Low', 'Medium', 'High', 'Critical'] as const;

export function severityLabel(severity: number): string {
  return SEVERITY_LABELS[severity] ?? `Severity ${severity}`;
}

/** The colour says it at a glance, the words say it to everyone (WCAG 1.4.1). */
export function SeverityBadge({ severity }: { severity: number }) {
  return (
    <span className={`status severity severity-${severity}`}>
      {severityLabel(severity)}
      <span className="visually-hidden"> severity</span>
    </span>
  );
}

/** fullstop's priority 1 (highest) … 4 (lowest). */
export function PriorityLabel({ priority }: { priority: number }) {
  return (
    <span className={`priority priority-${priority}`} title={`Priority ${priority} (1 is the highest)`}>
      P{priority}
    </span>
  );
}

export type ViolationStatus = 'open' | 'resolved' | 'accepted';

/** Resolved: commented. Accepted: covered by a risk acceptance (`rule_id` is its id). */
export function statusOf(v: Pick<Violation, 'comment' | 'rule_id'>): ViolationStatus {
  if (v.comment !== null) return 'resolved';
  if (v.rule_id !== null) return 'accepted';
  return 'open';
}

const STATUS_CLASS: Record<ViolationStatus, string> = {
  open: 'status-denied',
  resolved: 'status-granted',
  accepted: 'status-requested',
};

export function StatusBadge({ violation }: { violation: Pick<Violation, 'comment' | 'rule_id'> }) {
  const status = statusOf(violation);
  return <span className={`status ${STATUS_CLASS[status]}`}>{status}</span>;
}

/** `v.application_id` as a link to its page in the console, when there is one. */
export function ApplicationLink({ id }: { id: string | null }) {
  if (!id) return <span className="muted">none</span>;
  return <Link to={path('applications', id)}>{id}</Link>;
}

/** The accounts `team` owns; `team` '' means every team of the signed-in person. */
export function accountsOfTeam(
  accounts: readonly AwsAccount[],
  team: string,
  own: readonly Team[],
): AwsAccount[] {
  const owners = team ? new Set([team]) : new Set(own.map((t) => t.id));
  return accounts
    .filter((a) => owners.has(a.owner))
    .sort((a, b) => a.owner.localeCompare(b.owner) || a.id.localeCompare(b.id));
}

/** Every account with its owner, and every team: the pages' selectors choose from them. */
export function useOrganisation() {
  const { api } = useSignedIn();
  return useLoad(async () => {
    const [accounts, teams] = await Promise.all([api.awsAccounts(), api.allTeams()]);
    return { accounts, teams };
  }, []);
}

/** Whether the signed-in person may act for the team owning `account`: fullstop's own rule, as far as the console knows. */
export function useMayActFor() {
  const { teams, admin } = useSignedIn();
  return (owner: string | undefined) => admin || (owner !== undefined && teams.some((t) => t.id === owner));
}

export function TeamSelect({
  id,
  value,
  onChange,
  allTeams,
  allowAllOwn,
}: {
  id: string;
  value: string;
  onChange: (team: string) => void;
  allTeams: readonly Team[];
  /** Offer "all my teams" as the empty value. */
  allowAllOwn: boolean;
}) {
  const { teams } = useSignedIn();
  const own = new Set(teams.map((t) => t.id));
  const others = allTeams.filter((t) => !own.has(t.id));
  return (
    <div className="field">
      <label htmlFor={id}>Team</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {allowAllOwn && <option value="">All my teams</option>}
        <optgroup label="Your teams">
          {teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name ? `${t.name} (${t.id})` : t.id}
            </option>
          ))}
        </optgroup>
        {others.length > 0 && (
          <optgroup label="Other teams">
            {others.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name ? `${t.name} (${t.id})` : t.id}
              </option>
            ))}
          </optgroup>
        )}
      </select>
    </div>
  );
}

/** The two views of the violations section, as links: each has its own address. */
export function ViolationsTabs({ current, team }: { current: 'violations' | 'acceptances'; team: string }) {
  const query = team ? `?team=${encodeURIComponent(team)}` : '';
  const tab = (to: string, label: string, here: boolean): ReactNode => (
    <li>
      <Link to={`${to}${query}`} {...(here ? { 'aria-current': 'page' as const } : {})}>
        {label}
      </Link>
    </li>
  );
  return (
    <nav className="violation-tabs" aria-label="Violations">
      <ul>
        {tab('/violations', 'Violations', current === 'violations')}
        {tab('/violations/risk-acceptances', 'Risk acceptances', current === 'acceptances')}
      </ul>
    </nav>
  );
}
