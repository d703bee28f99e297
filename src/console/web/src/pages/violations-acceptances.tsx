import { type FormEvent, useState } from 'react';
import type {
  AwsAccount,
  RiskAcceptance,
  RiskAcceptanceCriteria,
  RiskAcceptanceDryRun,
  ViolationType,
} from '../api/types';
import { Field } from '../components/field';
import { type Column, ListTable } from '../components/list-table';
import { Empty, ErrorNotice, Loaded, Loading } from '../components/states';
import { formatTimestamp, plural } from '../lib/format';
import { Link, path, useRouter } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import {
  accountsOfTeam,
  SeverityBadge,
  StatusBadge,
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
const DAY_MS = 24 * 60 * 60 * 1000;
/** fullstop's default longest lifetime; the service has the last word. */
const MAX_DAYS = 365;
const DEFAULT_DAYS = 90;

function dateIn(days: number): string {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

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

interface Draft {
  accounts: string[];
  regions: string;
  types: string[];
  image_name: string;
  image_owner: string;
  application_id: string;
  application_version: string;
  meta_info: string;
  reason: string;
  expires: string;
}

const EMPTY_DRAFT: Draft = {
  accounts: [],
  regions: '',
  types: [],
  image_name: '',
  image_owner: '',
  application_id: '',
  application_version: '',
  meta_info: '',
  reason: '',
  expires: dateIn(DEFAULT_DAYS),
};

function criteriaOf(d: Draft): RiskAcceptanceCriteria {
  const c: RiskAcceptanceCriteria = {};
  if (d.accounts.length) c.accounts = d.accounts;
  const regions = d.regions
    .split(/[\s,]+/)
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length) c.regions = regions;
  if (d.types.length) c.types = d.types;
  for (const key of [
    'image_name',
    'image_owner',
    'application_id',
    'application_version',
    'meta_info',
  ] as const) {
    if (d[key].trim()) c[key] = d[key].trim();
  }
  return c;
}

function Preview({ result }: { result: RiskAcceptanceDryRun }) {
  return (
    <div className="preview" aria-labelledby="preview-heading">
      <h3 id="preview-heading">
        Would cover {plural(result.matching, 'violation')}
        {result.sample.length < result.matching && `, ${result.sample.length} shown`}
      </h3>
      {result.sample.length > 0 && (
        <ListTable
          caption="Violations the acceptance would cover"
          rows={result.sample}
          rowKey={(v) => String(v.id)}
          columns={[
            {
              header: 'Violation',
              cell: (v) => <Link to={path('violations', String(v.id))}>{v.violation_type.title}</Link>,
              className: 'reason',
            },
            {
              header: 'Severity',
              cell: (v) => <SeverityBadge severity={v.violation_type.violation_severity} />,
            },
            { header: 'Account', cell: (v) => <code>{v.account_id}</code> },
            { header: 'Found (UTC)', cell: (v) => formatTimestamp(v.created), className: 'nowrap' },
            { header: 'Status', cell: (v) => <StatusBadge violation={v} /> },
          ]}
        />
      )}
    </div>
  );
}

function CreateForm({
  team,
  accounts,
  types,
  onCreated,
}: {
  team: string;
  accounts: readonly AwsAccount[];
  types: readonly ViolationType[];
  onCreated: (a: RiskAcceptance) => void;
}) {
  const { api } = useSignedIn();
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [preview, setPreview] = useState<RiskAcceptanceDryRun | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (key: keyof Draft) => (e: { target: { value: string } }) => {
    setDraft((d) => ({ ...d, [key]: e.target.value }));
    // The preview shows what the criteria cover: the reason and the date do not change that.
    if (key !== 'reason' && key !== 'expires') setPreview(undefined);
  };
  const toggle = (key: 'accounts' | 'types', value: string) => (e: { target: { checked: boolean } }) => {
    setDraft((d) => ({
      ...d,
      [key]: e.target.checked ? [...d[key], value] : d[key].filter((v) => v !== value),
    }));
    setPreview(undefined);
  };
  const criteria = criteriaOf(draft);
  const hasCriteria = Object.keys(criteria).length > 0;

  const run = async (what: 'preview' | 'create') => {
    setProblem(undefined);
    if (!hasCriteria) {
      setProblem('Choose at least one criterion: an acceptance covering everything is not one.');
      return;
    }
    if (what === 'create' && !draft.reason.trim()) {
      setProblem('Give the reason the team accepts this risk.');
      return;
    }
    setBusy(true);
    try {
      if (what === 'preview') setPreview(await api.dryRunRiskAcceptance({ criteria, team }));
      else {
        const created = await api.createRiskAcceptance({
          criteria,
          team,
          reason: draft.reason.trim(),
          expires: `${draft.expires}T00:00:00Z`,
        });
        setDraft(EMPTY_DRAFT);
        setPreview(undefined);
        onCreated(created);
      }
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  const text = (key: keyof Draft, label: string, hint?: string) => (
    <Field id={`acceptance-${key}`} label={label} {...(hint ? { hint } : {})}>
      {(describedBy) => (
        <input
          id={`acceptance-${key}`}
          value={draft[key]}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={describedBy}
          onChange={set(key)}
        />
      )}
    </Field>
  );

  return (
    <form
      className="form acceptance-form"
      aria-label="New risk acceptance"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void run('create');
      }}
    >
      <p className="muted">
        Every criterion given must match; a list matches any of its entries. Violations of team {team} only.
      </p>
      {accounts.length > 0 && (
        <fieldset>
          <legend>Accounts</legend>
          {accounts.map((a) => (
            <div className="radio" key={a.id}>
              <input
                type="checkbox"
                id={`acceptance-account-${a.id}`}
                checked={draft.accounts.includes(a.id)}
                onChange={toggle('accounts', a.id)}
              />
              <label htmlFor={`acceptance-account-${a.id}`}>{a.id}</label>
            </div>
          ))}
        </fieldset>
      )}
      <fieldset>
        <legend>Violation types</legend>
        <div className="checkbox-columns">
          {types.map((t) => (
            <div className="radio" key={t.id}>
              <input
                type="checkbox"
                id={`acceptance-type-${t.id}`}
                checked={draft.types.includes(t.id)}
                onChange={toggle('types', t.id)}
              />
              <label htmlFor={`acceptance-type-${t.id}`}>{t.title}</label>
            </div>
          ))}
        </div>
      </fieldset>
      {text('regions', 'Regions', 'Comma-separated, e.g. eu-central-1')}
      {text('application_id', 'Application id')}
      {text('application_version', 'Application version')}
      {text('image_name', 'Image name', 'A regular expression, e.g. ^pierone\\.example/team/app$')}
      {text('image_owner', 'Image owner', 'The AWS account owning the AMI')}
      {text('meta_info', 'Details filter', 'A JSONPath filter over the details, e.g. $[?(@.port == 443)]')}
      <Field
        id="acceptance-reason"
        label="Reason"
        required
        hint="Why the team accepts this risk; everyone can read it."
      >
        {(describedBy) => (
          <textarea
            id="acceptance-reason"
            rows={3}
            value={draft.reason}
            aria-describedby={describedBy}
            onChange={set('reason')}
          />
        )}
      </Field>
      <Field
        id="acceptance-expires"
        label="Expires on (UTC)"
        required
        hint={`At the start of that day; at most ${MAX_DAYS} days ahead. There is no “forever”.`}
      >
        {(describedBy) => (
          <input
            id="acceptance-expires"
            type="date"
            value={draft.expires}
            min={dateIn(1)}
            max={dateIn(MAX_DAYS)}
            aria-describedby={describedBy}
            onChange={set('expires')}
          />
        )}
      </Field>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="button secondary"
          disabled={busy}
          onClick={() => void run('preview')}
        >
          Preview
        </button>
        <button type="submit" className="button" disabled={busy}>
          Accept the risk
        </button>
      </div>
      <div aria-live="polite">{preview && <Preview result={preview} />}</div>
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
