import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/api-error';
import type { AccessRequest, AccessRequestStatus } from '../api/types';
import { Field } from '../components/field';
import { type Column, ListTable } from '../components/list-table';
import { Empty, ErrorNotice, Loaded } from '../components/states';
import { formatTimestamp } from '../lib/format';
import { accessRequestProblems } from '../../../shared/rules';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLiveLoad } from '../use-load';

/*
 * SSH access through even, as `piu HOST REASON` asks for it: request, watch the status change
 * (granted, failed, expired, revoked) without reloading, and end a grant early.
 */

/** How often the lists are read again while the page is visible. */
const REFRESH_MS = 5_000;
/** Per person: the newest requests are what matters here; the audit log keeps the rest. */
const PER_PERSON = 25;

const STATUS_WORDS: Record<AccessRequestStatus, string> = {
  REQUESTED: 'Requested',
  GRANTED: 'Granted',
  DENIED: 'Denied',
  FAILED: 'Failed',
  EXPIRED: 'Expired',
  REVOKED: 'Revoked',
};

export function StatusBadge({ status }: { status: AccessRequestStatus }) {
  return <span className={`status status-${status.toLowerCase()}`}>{STATUS_WORDS[status]}</span>;
}

/** even's own words for a refusal (not a team member, no SSH key), not the generic sentence. */
function refusal(error: unknown): string {
  if (error instanceof ApiError && error.detail && (error.status === 400 || error.status === 403)) {
    return error.detail;
  }
  return error instanceof Error ? error.message : String(error);
}

function RequestForm({ onRequested }: { onRequested: (message: string) => void }) {
  const { api } = useSignedIn();
  const [hostname, setHostname] = useState('');
  const [reason, setReason] = useState('');
  const [lifetime, setLifetime] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    const found = accessRequestProblems({ hostname, reason, lifetime });
    setProblems(found);
    const first = Object.keys(found)[0];
    if (first) {
      form.current?.querySelector<HTMLElement>(`#access-${first}`)?.focus();
      return;
    }
    setSaving(true);
    try {
      await api.requestAccess({
        hostname: hostname.trim(),
        reason: reason.trim(),
        ...(lifetime.trim() ? { lifetime_minutes: Number(lifetime) } : {}),
      });
      onRequested(`Access to ${hostname.trim()} was granted.`);
      setReason('');
    } catch (error) {
      setFailure(refusal(error));
      // A refused or failed request is on the list too: it is read again to show it.
      onRequested('');
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      ref={form}
      className="form"
      noValidate
      aria-labelledby="request-heading"
      onSubmit={(event) => void submit(event)}
    >
      <h2 id="request-heading">Request access</h2>
      <Field
        id="access-hostname"
        label="Host"
        required
        problem={problems.hostname}
        hint={
          <>
            The bastion of your team, e.g. <code>odd-eu-central-1.your-team.example.org</code>.
          </>
        }
      >
        {(describedBy, invalid) => (
          <input
            id="access-hostname"
            value={hostname}
            autoComplete="off"
            spellCheck={false}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setHostname(e.target.value)}
          />
        )}
      </Field>
      <Field
        id="access-reason"
        label="Reason"
        required
        problem={problems.reason}
        hint="Why you need access; it is kept with the request and in the audit log."
      >
        {(describedBy, invalid) => (
          <textarea
            id="access-reason"
            rows={2}
            value={reason}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setReason(e.target.value)}
          />
        )}
      </Field>
      <Field
        id="access-lifetime"
        label="Minutes"
        problem={problems.lifetime}
        hint="How long the access lasts; leave empty for the platform's default."
      >
        {(describedBy, invalid) => (
          <input
            id="access-lifetime"
            inputMode="numeric"
            className="short"
            value={lifetime}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setLifetime(e.target.value)}
          />
        )}
      </Field>
      {failure && <ErrorNotice error={`Access was not granted: ${failure}`} />}
      <div className="actions">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Requesting…' : 'Request access'}
        </button>
      </div>
    </form>
  );
}

function RequestTable({
  caption,
  requests,
  showUser,
  onRevoked,
}: {
  caption: string;
  requests: AccessRequest[];
  showUser: boolean;
  onRevoked: (message: string) => void;
}) {
  const { api, user, admin } = useSignedIn();
  const [revoking, setRevoking] = useState<number | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  // The same rule as even's: the user, the one who asked, or an administrator.
  const mayRevoke = (r: AccessRequest) =>
    r.status === 'GRANTED' && (admin || r.username === user.sub || r.created_by === user.sub);
  const revoke = async (r: AccessRequest) => {
    if (!window.confirm(`End ${r.username}'s access to ${r.hostname} now?`)) return;
    setFailure(undefined);
    setRevoking(r.id);
    try {
      await api.revokeAccess(r.id);
      onRevoked(`Access of ${r.username} to ${r.hostname} was revoked.`);
    } catch (error) {
      setFailure(refusal(error));
    } finally {
      setRevoking(undefined);
    }
  };
  const columns: Column<AccessRequest>[] = [
    { header: 'Host', cell: (r) => <code>{r.hostname}</code> },
    ...(showUser
      ? [
          {
            header: 'User',
            cell: (r: AccessRequest) => <Link to={path('people', r.username)}>{r.username}</Link>,
          },
        ]
      : []),
    { header: 'Reason', cell: (r) => r.reason, className: 'reason' },
    {
      header: 'Status',
      cell: (r) => (
        <>
          <StatusBadge status={r.status} />
          {r.status_reason && <span className="muted block">{r.status_reason}</span>}
        </>
      ),
    },
    {
      header: 'When',
      cell: (r) => (
        <>
          {formatTimestamp(r.created)}
          {r.expires_at && <span className="muted block">ends {formatTimestamp(r.expires_at)}</span>}
        </>
      ),
      className: 'nowrap',
    },
    {
      header: 'Action',
      cell: (r) =>
        mayRevoke(r) ? (
          <button
            type="button"
            className="button secondary small"
            disabled={revoking === r.id}
            aria-label={`Revoke access to ${r.hostname} for ${r.username}`}
            onClick={() => void revoke(r)}
          >
            {revoking === r.id ? 'Revoking…' : 'Revoke'}
          </button>
        ) : null,
    },
  ];
  return (
    <>
      {failure && <ErrorNotice error={`The access was not revoked: ${failure}`} />}
      <ListTable caption={caption} rows={requests} columns={columns} rowKey={(r) => String(r.id)} />
    </>
  );
}

/** Says each status change of one's own requests once, for screen readers. */
function useStatusAnnouncer(requests: AccessRequest[] | undefined): string {
  const seen = useRef<Map<number, AccessRequestStatus> | undefined>(undefined);
  const [said, setSaid] = useState('');
  useEffect(() => {
    if (!requests) return;
    const before = seen.current;
    seen.current = new Map(requests.map((r) => [r.id, r.status]));
    if (!before) return;
    const changed = requests.filter((r) => before.has(r.id) && before.get(r.id) !== r.status);
    if (changed.length) {
      setSaid(changed.map((r) => `${r.hostname}: ${STATUS_WORDS[r.status].toLowerCase()}.`).join(' '));
    }
  }, [requests]);
  return said;
}

export function AccessRequestsPage() {
  const { api, user, teams } = useSignedIn();
  const uid = user.sub;
  const teamIds = teams.map((t) => t.id).join(',');
  const mine = useLiveLoad(
    (signal) => api.accessRequests({ username: uid, limit: PER_PERSON }, signal),
    [uid],
    REFRESH_MS,
  );
  const team = useLiveLoad(
    async (signal) => {
      const details = await Promise.all(teams.map((t) => api.team(t.id)));
      const members = [...new Set(details.flatMap((t) => t.members))].filter((m) => m !== uid).sort();
      const lists = await Promise.all(
        members.map((m) => api.accessRequests({ username: m, limit: PER_PERSON }, signal)),
      );
      return lists.flat().sort((a, b) => b.created.localeCompare(a.created) || b.id - a.id);
    },
    [uid, teamIds],
    REFRESH_MS,
  );
  const [done, setDone] = useState('');
  const announced = useStatusAnnouncer(mine.status === 'ready' ? mine.data : undefined);
  const changed = (message: string) => {
    setDone(message);
    if (mine.status === 'ready') mine.reload();
    if (team.status === 'ready') team.reload();
  };

  return (
    <section>
      <h1>Access requests</h1>
      <p>
        SSH access to a bastion is granted at once to members of the team that owns it, for a limited time —
        the same as <code>piu HOST REASON</code> in a terminal. Add your key on{' '}
        <Link to="/ssh-keys">SSH keys</Link> first.
      </p>
      <p className="visually-hidden" role="status" aria-live="polite">
        {[done, announced].filter(Boolean).join(' ')}
      </p>
      <RequestForm onRequested={changed} />
      <section aria-labelledby="mine-heading" className="reserve">
        <h2 id="mine-heading">Your requests</h2>
        <Loaded state={mine} label="Loading your requests…">
          {(requests) =>
            requests.length === 0 ? (
              <Empty title="You have not requested access yet." />
            ) : (
              <>
                {'stale' in mine && mine.stale && <p className="muted">Not updated: {mine.stale}</p>}
                <RequestTable
                  caption="Your access requests"
                  requests={requests}
                  showUser={false}
                  onRevoked={changed}
                />
              </>
            )
          }
        </Loaded>
      </section>
      <section aria-labelledby="team-requests-heading" className="reserve">
        <h2 id="team-requests-heading">Your teams' requests</h2>
        <Loaded state={team} label="Loading your teams' requests…">
          {(requests) =>
            requests.length === 0 ? (
              <Empty
                title={
                  teams.length ? 'Nobody else in your teams has requested access.' : 'You are in no team.'
                }
              />
            ) : (
              <RequestTable
                caption="Access requests of your teams' members"
                requests={requests}
                showUser
                onRevoked={changed}
              />
            )
          }
        </Loaded>
      </section>
    </section>
  );
}
