import { type FormEvent, useState } from 'react';
import type { ResourceType, Scope } from '../api/types';
import { isNotFound } from '../api/http-client';
import { Field } from '../components/field';
import { ErrorNotice, Loaded } from '../components/states';
import {
  allowedScopeKinds,
  SCOPE_KIND_HELP,
  SCOPE_KIND_LABELS,
  type ScopeKind,
  scopeIdProblem,
  scopeKindOf,
} from '../../../shared/rules';
import { Link, path, useRouter } from '../router';
import { useSignedIn } from '../session';
import { useAvailability } from '../use-availability';
import { useLoad } from '../use-load';

/** Radio choice of scope kind; a kind the resource type does not allow is shown but disabled, with the reason. */
export function ScopeKindChoice({
  owners,
  value,
  onChange,
}: {
  owners: readonly string[];
  value: ScopeKind;
  onChange: (kind: ScopeKind) => void;
}) {
  const allowed = allowedScopeKinds(owners);
  return (
    <fieldset className="field">
      <legend>Kind of scope</legend>
      {(['application', 'resource-owner'] as const).map((kind) => {
        const disabled = !allowed.includes(kind);
        return (
          <div className="radio" key={kind}>
            <input
              type="radio"
              id={`kind-${kind}`}
              name="scope-kind"
              value={kind}
              checked={value === kind}
              disabled={disabled}
              aria-describedby={`kind-${kind}-help`}
              onChange={() => onChange(kind)}
            />
            <label htmlFor={`kind-${kind}`}>{SCOPE_KIND_LABELS[kind]}</label>
            <p className="hint" id={`kind-${kind}-help`}>
              {SCOPE_KIND_HELP[kind]}
              {disabled && ' Not possible here: this resource type has no resource owners.'}
            </p>
          </div>
        );
      })}
    </fieldset>
  );
}

function ScopeForm({ type, scope }: { type: ResourceType; scope?: Scope }) {
  const { api } = useSignedIn();
  const { navigate } = useRouter();
  const creating = !scope;
  const [id, setId] = useState(scope?.id ?? '');
  const [summary, setSummary] = useState(scope?.summary ?? '');
  const [description, setDescription] = useState(scope?.description ?? '');
  const [userInformation, setUserInformation] = useState(scope?.user_information ?? '');
  const [kind, setKind] = useState<ScopeKind>(scope ? scopeKindOf(scope) : 'application');
  const [criticality, setCriticality] = useState(scope?.criticality_level ?? 2);
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const availability = useAvailability(creating ? id : '', scopeIdProblem, (candidate) =>
    api.scope(type.id, candidate).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    ),
  );
  const idProblem = creating ? scopeIdProblem(id) : undefined;
  const problems = touched ? { id: idProblem, summary: summary.trim() ? undefined : 'Enter a summary.' } : {};

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    setFailure(undefined);
    if (idProblem || !summary.trim()) {
      document.getElementById(idProblem ? 'scope-id' : 'scope-summary')?.focus();
      return;
    }
    if (creating && availability.kind === 'taken') {
      setFailure(`The scope ${type.id}.${id} exists already.`);
      return;
    }
    setSaving(true);
    try {
      const saved = await api.putScope(type.id, creating ? id : scope.id, {
        summary: summary.trim(),
        description,
        user_information: userInformation,
        is_resource_owner_scope: kind === 'resource-owner',
        criticality_level: criticality,
      });
      navigate(path('resource-types', type.id, 'scopes', saved.id));
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setSaving(false);
    }
  };

  const idStatus =
    availability.kind === 'free' ? (
      <span className="good">
        ✓ {type.id}.{id} is free.
      </span>
    ) : availability.kind === 'taken' ? (
      <span className="bad">
        {type.id}.{id} exists already.
      </span>
    ) : availability.kind === 'checking' ? (
      <>Checking…</>
    ) : (
      <>
        The token scope will be {type.id}.{id || '<id>'}
      </>
    );

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate>
      {creating ? (
        <Field id="scope-id" label="Scope id" required problem={problems.id} status={idStatus}>
          {(describedBy, invalid) => (
            <input
              id="scope-id"
              value={id}
              autoComplete="off"
              spellCheck={false}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(e) => setId(e.target.value)}
            />
          )}
        </Field>
      ) : (
        <p>
          Scope:{' '}
          <code>
            {type.id}.{scope.id}
          </code>
        </p>
      )}
      <Field id="scope-summary" label="Summary" required problem={problems.summary}>
        {(describedBy, invalid) => (
          <input
            id="scope-summary"
            value={summary}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setSummary(e.target.value)}
          />
        )}
      </Field>
      <Field id="scope-description" label="Description">
        {(describedBy) => (
          <textarea
            id="scope-description"
            rows={3}
            value={description}
            aria-describedby={describedBy}
            onChange={(e) => setDescription(e.target.value)}
          />
        )}
      </Field>
      <ScopeKindChoice owners={type.resource_owners} value={kind} onChange={setKind} />
      {kind === 'resource-owner' && (
        <Field
          id="scope-user-information"
          label="Text shown to the resource owner"
          hint="When an application asks them to grant this scope."
        >
          {(describedBy) => (
            <input
              id="scope-user-information"
              value={userInformation}
              aria-describedby={describedBy}
              onChange={(e) => setUserInformation(e.target.value)}
            />
          )}
        </Field>
      )}
      <Field id="scope-criticality" label="Criticality" hint="1 is lowest, 3 is highest.">
        {(describedBy) => (
          <select
            id="scope-criticality"
            value={criticality}
            aria-describedby={describedBy}
            onChange={(e) => setCriticality(Number(e.target.value))}
          >
            {[1, 2, 3].map((level) => (
              <option key={level} value={level}>
                {level}
              </option>
            ))}
          </select>
        )}
      </Field>
      {failure && <ErrorNotice error={failure} />}
      <div className="actions">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Saving…' : creating ? 'Create scope' : 'Save changes'}
        </button>
        <Link
          to={
            creating ? path('resource-types', type.id) : path('resource-types', type.id, 'scopes', scope.id)
          }
          className="button secondary"
        >
          Cancel
        </Link>
      </div>
    </form>
  );
}

export function ScopeFormPage({ typeId, scopeId }: { typeId: string; scopeId?: string }) {
  const { api } = useSignedIn();
  const state = useLoad(
    async () => ({
      type: await api.resourceType(typeId),
      scope: scopeId ? await api.scope(typeId, scopeId) : undefined,
    }),
    [typeId, scopeId],
  );
  return (
    <section>
      <h1>{scopeId ? `Edit scope ${typeId}.${scopeId}` : `New scope for ${typeId}`}</h1>
      <Loaded state={state} label="Loading the resource type…">
        {({ type, scope }) => (scope ? <ScopeForm type={type} scope={scope} /> : <ScopeForm type={type} />)}
      </Loaded>
    </section>
  );
}
