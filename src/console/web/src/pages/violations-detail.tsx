import { type FormEvent, type ReactNode, useState } from 'react';
import type { Violation } from '../api/types';
import { Field } from '../components/field';
import { Loaded } from '../components/states';
import { formatTimestamp } from '../lib/format';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import {
  ApplicationLink,
  PriorityLabel,
  SeverityBadge,
  StatusBadge,
  statusOf,
  useMayActFor,
  useOrganisation,
} from './violations-common';

/* One violation: what was found, where, why it matters, and its resolution. */

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="dl-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const none = <span className="muted">none</span>;

function Facts({ v, owner }: { v: Violation; owner: string | undefined }) {
  const type = v.violation_type;
  return (
    <dl className="facts" aria-label="Violation">
      <Row label="Status">
        <StatusBadge violation={v} />
      </Row>
      <Row label="Type">
        {type.title} <code>{type.id}</code>
      </Row>
      <Row label="Why it matters">{type.help_text}</Row>
      <Row label="Severity">
        <SeverityBadge severity={type.violation_severity} />
        {type.audit_relevant && <span className="muted"> · audit relevant</span>}
      </Row>
      <Row label="Priority">
        <PriorityLabel priority={type.priority} /> <span className="muted">(1 is the highest)</span>
      </Row>
      <Row label="Account">
        <code>{v.account_id}</code> in {v.region}
        {owner && (
          <>
            {' '}
            · team <Link to={path('teams', owner)}>{owner}</Link>
          </>
        )}
      </Row>
      <Row label="Instance">
        {v.instance_id ? (
          <>
            <code>{v.instance_id}</code> ·{' '}
            <Link to={`/trace?${new URLSearchParams({ subject: v.instance_id })}`}>Trace</Link>
          </>
        ) : (
          none
        )}
      </Row>
      <Row label="Application">
        <ApplicationLink id={v.application_id} />
      </Row>
      <Row label="Application version">{v.application_version_id ?? none}</Row>
      <Row label="Done by">{v.username ?? none}</Row>
      {/* Found: when fullstop stored it (lists and filters go by it); happened: the event's own time. */}
      <Row label="Found">{formatTimestamp(v.created)}</Row>
      <Row label="Happened">
        {v.event_time ? formatTimestamp(v.event_time) : none}{' '}
        <span className="muted">(event {v.event_id})</span>
      </Row>
      <Row label="Risk acceptance">
        {v.rule_id !== null ? (
          <Link
            to={`/violations/risk-acceptances?${new URLSearchParams({ ...(owner ? { team: owner } : {}), status: 'all' })}`}
          >
            acceptance {v.rule_id}
          </Link>
        ) : (
          none
        )}
      </Row>
      <Row label="Comment">
        {v.comment !== null ? (
          <>
            <p className="pre">{v.comment}</p>
            <span className="muted">
              by {v.last_modified_by} on {formatTimestamp(v.last_modified)}
            </span>
          </>
        ) : (
          none
        )}
      </Row>
    </dl>
  );
}

function ResolveForm({ v, onResolved }: { v: Violation; onResolved: (v: Violation) => void }) {
  const { api } = useSignedIn();
  const [comment, setComment] = useState(v.comment ?? '');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!comment.trim()) {
      setProblem('Say how it was resolved: the comment is the resolution.');
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      onResolved(await api.resolveViolation(v.id, comment));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  const resolved = statusOf(v) === 'resolved';
  return (
    <form className="form" aria-label="Resolve" onSubmit={(e) => void submit(e)} noValidate>
      <Field
        id="resolution-comment"
        label={resolved ? 'Change the comment' : 'Comment'}
        hint="Why this is fine, or what was done about it (a ticket, a fix). Everyone can read it."
        problem={problem}
        required
      >
        {(describedBy, invalid) => (
          <textarea
            id="resolution-comment"
            rows={4}
            value={comment}
            maxLength={10_000}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setComment(e.target.value)}
          />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="button" disabled={busy}>
          {resolved ? 'Save comment' : 'Resolve'}
        </button>
      </div>
    </form>
  );
}

export function ViolationDetailPage({ id }: { id: string }) {
  const { api } = useSignedIn();
  const state = useLoad((signal) => api.violation(id, signal), [id]);
  const organisation = useOrganisation();
  const mayActFor = useMayActFor();
  const [updated, setUpdated] = useState<Violation | undefined>();
  const [said, setSaid] = useState('');
  return (
    <Loaded state={state} label={`Loading violation ${id}…`}>
      {(loaded) => {
        const v = updated ?? loaded;
        const owner =
          organisation.status === 'ready'
            ? organisation.data.accounts.find((a) => a.id === v.account_id)?.owner
            : undefined;
        return (
          <article>
            <p className="muted">
              <Link to="/violations">Violations</Link>
            </p>
            <h1>
              {v.violation_type.title} <span className="muted">#{v.id}</span>
            </h1>
            <Facts v={v} owner={owner} />
            <section aria-labelledby="meta-heading">
              <h2 id="meta-heading">Details</h2>
              {v.meta_info === null || v.meta_info === undefined ? (
                <p className="muted">The rule recorded no details.</p>
              ) : (
                // A focusable, labelled region: long JSON scrolls sideways by keyboard too.
                <pre className="meta-info" tabIndex={0} aria-label="Details recorded by the rule">
                  {JSON.stringify(v.meta_info, null, 2)}
                </pre>
              )}
            </section>
            <section aria-labelledby="resolution-heading">
              <h2 id="resolution-heading">Resolution</h2>
              <p className={said ? 'notice' : 'visually-hidden'} role="status">
                {said}
              </p>
              {organisation.status !== 'ready' ? null : mayActFor(owner) ? (
                <ResolveForm
                  key={v.version}
                  v={v}
                  onResolved={(next) => {
                    setUpdated(next);
                    setSaid(`Resolved by ${next.last_modified_by}.`);
                  }}
                />
              ) : (
                <p className="muted">
                  {owner
                    ? `Only members of team ${owner} can resolve this violation.`
                    : 'No team owns this account: only administrators can resolve this violation.'}
                </p>
              )}
            </section>
          </article>
        );
      }}
    </Loaded>
  );
}
