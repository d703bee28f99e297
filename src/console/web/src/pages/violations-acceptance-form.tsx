import { useState } from 'react';
import type {
  AwsAccount,
  RiskAcceptance,
  RiskAcceptanceCriteria,
  RiskAcceptanceDryRun,
  ViolationType,
} from '../api/types';
import { Field } from '../components/field';
import { ListTable } from '../components/list-table';
import { formatTimestamp, plural } from '../lib/format';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { SeverityBadge, StatusBadge } from './violations-common';

/*
 * A new risk acceptance: the criteria, previewed with fullstop's dry run (nothing stored), then
 * created with a reason and an expiry date.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
/** fullstop's default longest lifetime; the service has the last word. */
const MAX_DAYS = 365;
const DEFAULT_DAYS = 90;

function dateIn(days: number): string {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
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

export function CreateForm({
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
