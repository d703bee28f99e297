import { type FormEvent, useState } from 'react';
import type { RiskAcceptance, RiskAcceptanceCriteria } from '../api/types';
import { Field } from '../components/field';
import { type Column, ListTable } from '../components/list-table';
import { Empty, ErrorNotice, Loaded, Loading } from '../components/states';
import { formatTimestamp, plural } from '../lib/format';
import { useRouter } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import { CreateForm } from './violations-acceptance-form';
import {
  accountsOfTeam,
  TeamSelect,
  useMayActFor,
  useOrganisation,
  ViolationsTabs,
} from './violations-common';

/*
 * Risk acceptances of a team: known violations the team accepts until a date. Creating one
 * previews what it would cover (fullstop's dry run) before anything is stored; an acceptance
 * is never changed, only ended early.
 */

const STATUSES = ['active', 'expired', 'all'] as const;
type Status = (typeof STATUSES)[number];

/** The criteria in words, for the list. */
export function describeCriteria(c: RiskAcceptanceCriteria): string[] {
  const parts: string[] = [];
  if (c.accounts?.length) parts.push(`accounts ${c.accounts.join(', ')}`);
  if (c.regions?.length) parts.push(`regions ${c.regions.join(', ')}`);
  if (c.types?.length) parts.push(`types ${c.types.join(', ')}`);
  if (c.image_name) parts.push(`image name ~ ${c.image_name}`);
  if (c.image_owner) parts.push(`image owner ${c.image_owner}`);
  if (c.application_id) parts.push(`application ${c.application_id}`);
  if (c.application_version) parts.push(`version ${c.application_version}`);
  if (c.meta_info) parts.push(`details match ${c.meta_info}`);
  return parts;
}

function ExpireButton({
  acceptance,
  onExpired,
}: {
  acceptance: RiskAcceptance;
  onExpired: (a: RiskAcceptance) => void;
}) {
  const { api } = useSignedIn();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" className="button secondary small" onClick={() => setOpen(true)}>
        Expire now<span className="visually-hidden"> acceptance {acceptance.id}</span>
      </button>
    );
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      onExpired(await api.expireRiskAcceptance(acceptance.id, reason.trim() || undefined));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
      setBusy(false);
    }
  };
  const id = `expire-reason-${acceptance.id}`;
  return (
    <form
      className="expire-form"
      aria-label={`Expire acceptance ${acceptance.id}`}
      onSubmit={(e) => void submit(e)}
    >
      <Field id={id} label="Why end it now (optional)" problem={problem}>
        {(describedBy) => (
          <input
            id={id}
            value={reason}
            aria-describedby={describedBy}
            onChange={(e) => setReason(e.target.value)}
          />
        )}
      </Field>
      <div className="actions">
        <button type="submit" className="button small" disabled={busy}>
          Expire acceptance {acceptance.id}
        </button>
        <button type="button" className="button secondary small" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function AcceptanceList({ team, status, mayAct }: { team: string; status: Status; mayAct: boolean }) {
  const { api } = useSignedIn();
  const [said, setSaid] = useState('');
  const state = useLoad((signal) => api.riskAcceptances({ team, status }, signal), [team, status]);
  const columns = (reload: () => void): Column<RiskAcceptance>[] => [
    { header: 'Id', cell: (a) => a.id },
    {
      header: 'Covers',
      cell: (a) => (
        <ul className="criteria">
          {describeCriteria(a.criteria).map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      ),
      className: 'reason',
    },
    { header: 'Reason', cell: (a) => <span className="pre">{a.reason}</span>, className: 'reason' },
    { header: 'Violations', cell: (a) => a.covered_violations },
    {
      header: 'Expires (UTC)',
      cell: (a) =>
        a.status === 'expired' ? (
          <>
            <span className="status">expired</span>
            <span className="muted block">
              {formatTimestamp(a.expired_at ?? a.expires)}
              {a.expired_by ? ` by ${a.expired_by}` : ''}
            </span>
          </>
        ) : (
          formatTimestamp(a.expires)
        ),
      className: 'nowrap',
    },
    {
      header: 'Created',
      cell: (a) => (
        <>
          {a.created_by}
          <span className="muted block">{formatTimestamp(a.created)}</span>
        </>
      ),
    },
    ...(mayAct
      ? [
          {
            header: 'Actions',
            cell: (a: RiskAcceptance) =>
              a.status === 'active' ? (
                <ExpireButton
                  acceptance={a}
                  onExpired={(done) => {
                    setSaid(
                      `Acceptance ${done.id} has ended; its violations are open again unless resolved.`,
                    );
                    reload();
                  }}
                />
              ) : null,
          },
        ]
      : []),
  ];
  return (
    <>
      <p className={said ? 'notice' : 'visually-hidden'} role="status">
        {said}
      </p>
      <Loaded state={state} label="Loading the risk acceptances…">
        {(acceptances, reload) =>
          acceptances.length === 0 ? (
            <Empty title={`Team ${team} has no ${status === 'all' ? '' : `${status} `}risk acceptance.`} />
          ) : (
            <ListTable
              caption={`Risk acceptances of team ${team}`}
              rows={acceptances}
              columns={columns(reload)}
              rowKey={(a) => String(a.id)}
            />
          )
        }
      </Loaded>
    </>
  );
}

export function RiskAcceptancesPage() {
  const { api, teams } = useSignedIn();
  const { location, navigate } = useRouter();
  const organisation = useOrganisation();
  const types = useLoad(() => api.violationTypes(), []);
  const mayActFor = useMayActFor();
  const team = location.query.get('team') || teams[0]?.id || '';
  const status = STATUSES.find((s) => s === location.query.get('status')) ?? 'active';
  const [generation, setGeneration] = useState(0);
  const [created, setCreated] = useState('');
  const go = (next: { team?: string; status?: Status }) => {
    const params = new URLSearchParams();
    params.set('team', next.team ?? team);
    const s = next.status ?? status;
    if (s !== 'active') params.set('status', s);
    navigate(`/violations/risk-acceptances?${params}`);
  };

  return (
    <section>
      <h1>Risk acceptances</h1>
      <p>
        A team may accept a known risk until a date: the violations it covers count as checked while it lasts,
        and come back when it ends.
      </p>
      <ViolationsTabs current="acceptances" team={team} />
      {organisation.status === 'loading' || types.status === 'loading' ? (
        <Loading label="Loading the teams…" />
      ) : organisation.status === 'error' ? (
        <ErrorNotice error={organisation.error} retry={organisation.retry} />
      ) : types.status === 'error' ? (
        <ErrorNotice error={types.error} retry={types.retry} />
      ) : !team ? (
        <Empty title="You are in no team yet." />
      ) : (
        <>
          <div className="filters">
            <TeamSelect
              id="acceptances-team"
              value={team}
              allTeams={organisation.data.teams}
              allowAllOwn={false}
              onChange={(next) => go({ team: next })}
            />
            <div className="field">
              <label htmlFor="acceptances-status">Show</label>
              <select
                id="acceptances-status"
                value={status}
                onChange={(e) => go({ status: e.target.value as Status })}
              >
                <option value="active">Active</option>
                <option value="expired">Expired</option>
                <option value="all">All</option>
              </select>
            </div>
          </div>
          <section aria-labelledby="acceptances-heading" className="reserve">
            <h2 id="acceptances-heading">
              {status === 'all'
                ? 'All acceptances'
                : status === 'active'
                  ? 'Active acceptances'
                  : 'Expired acceptances'}
            </h2>
            {created && (
              <p className="notice" role="status">
                {created}
              </p>
            )}
            <AcceptanceList key={generation} team={team} status={status} mayAct={mayActFor(team)} />
          </section>
          {mayActFor(team) ? (
            <section aria-labelledby="new-acceptance-heading">
              <h2 id="new-acceptance-heading">Accept a risk</h2>
              <CreateForm
                key={team}
                team={team}
                accounts={accountsOfTeam(organisation.data.accounts, team, teams)}
                types={types.data}
                onCreated={(a) => {
                  setCreated(
                    `Acceptance ${a.id} covers ${plural(a.covered_violations, 'violation')} until ${formatTimestamp(a.expires)}.`,
                  );
                  setGeneration((g) => g + 1);
                }}
              />
            </section>
          ) : (
            <p className="muted">Only members of team {team} can accept risks for it.</p>
          )}
        </>
      )}
    </section>
  );
}
