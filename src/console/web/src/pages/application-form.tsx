import { type FormEvent, useState } from 'react';
import type { Application } from '../api/types';
import { Field } from '../components/field';
import { ErrorNotice, Loaded } from '../components/states';
import { applicationIdProblem, urlProblem } from '../../../shared/rules';
import { Link, path, useRouter } from '../router';
import { useSignedIn } from '../session';
import { useAvailability } from '../use-availability';
import { useLoad } from '../use-load';

const TEXT_FIELDS = [
  ['subtitle', 'Subtitle', 'One line that says what it does.'],
  ['service_url', 'Service URL', 'Where the running service answers, e.g. https://hello.example.org'],
  ['scm_url', 'Source code URL', 'The repository, e.g. https://github.com/org/hello-world'],
  ['documentation_url', 'Documentation URL', undefined],
  ['specification_url', 'Specification URL', 'The API specification or ticket system.'],
  ['support_url', 'Support URL', undefined],
  ['specification_type', 'Specification type', 'e.g. OpenAPI, JIRA'],
  ['incident_contact', 'Incident contact', 'Who to call when it breaks.'],
] as const;
type TextField = (typeof TEXT_FIELDS)[number][0];
const URL_FIELDS = new Set<TextField>([
  'service_url',
  'scm_url',
  'documentation_url',
  'specification_url',
  'support_url',
]);

export interface ApplicationDraft {
  id: string;
  team_id: string;
  name: string;
  description: string;
  active: boolean;
  publicly_accessible: boolean;
  criticality_level: number;
  fields: Record<TextField, string>;
}

export function draftOf(app: Application | undefined, defaultTeam: string): ApplicationDraft {
  return {
    id: app?.id ?? '',
    team_id: app?.team_id ?? defaultTeam,
    name: app?.name ?? '',
    description: app?.description ?? '',
    active: app?.active ?? true,
    publicly_accessible: app?.publicly_accessible ?? false,
    criticality_level: app?.criticality_level ?? 2,
    fields: Object.fromEntries(TEXT_FIELDS.map(([key]) => [key, app?.[key] ?? ''])) as Record<
      TextField,
      string
    >,
  };
}

/** Every problem of a draft by field, in plain words; empty when Kio should accept it. */
export function draftProblems(draft: ApplicationDraft, creating: boolean): Record<string, string> {
  const problems: Record<string, string> = {};
  if (creating) {
    const idProblem = applicationIdProblem(draft.id);
    if (idProblem) problems.id = idProblem;
  }
  if (!draft.team_id.trim()) problems.team_id = 'Choose the team that owns the application.';
  if (!draft.name.trim()) problems.name = 'Enter a name.';
  for (const key of URL_FIELDS) {
    const problem = urlProblem(draft.fields[key].trim());
    if (problem) problems[key] = problem;
  }
  return problems;
}

/** The PUT body: on creation empty fields are left out; on edit an empty field clears the value. */
export function bodyOf(draft: ApplicationDraft, creating: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    team_id: draft.team_id.trim(),
    name: draft.name.trim(),
    active: draft.active,
    publicly_accessible: draft.publicly_accessible,
    criticality_level: draft.criticality_level,
  };
  const texts: Record<string, string> = { ...draft.fields, description: draft.description };
  for (const [key, value] of Object.entries(texts)) {
    const trimmed = key === 'description' ? value : value.trim();
    if (trimmed !== '' || !creating) body[key] = trimmed;
  }
  return body;
}

function IdStatus({ id }: { id: string }) {
  const { api } = useSignedIn();
  const availability = useAvailability(id, applicationIdProblem, (candidate, signal) =>
    api.applicationExists(candidate, signal),
  );
  switch (availability.kind) {
    case 'empty':
      return <>Lowercase letters, digits and dashes, e.g. hello-world. It cannot be changed later.</>;
    case 'invalid':
      return <span className="bad">{availability.message}</span>;
    case 'checking':
      return <>Checking whether {id} is free…</>;
    case 'free':
      return <span className="good">✓ {id} is free.</span>;
    case 'taken':
      return (
        <span className="bad">
          {id} is taken. See <Link to={path('applications', id)}>the existing application</Link>.
        </span>
      );
    case 'refused':
      return <span className="bad">{availability.message}</span>;
    case 'unknown':
      return <span className="bad">Could not check the id: {availability.message}</span>;
  }
}

function ApplicationForm({ app }: { app?: Application }) {
  const { api, teams } = useSignedIn();
  const { navigate } = useRouter();
  const creating = !app;
  const [draft, setDraft] = useState(() => draftOf(app, teams[0]?.id ?? ''));
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const problems = touched ? draftProblems(draft, creating) : {};
  const set = (patch: Partial<ApplicationDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setField = (key: TextField, value: string) =>
    setDraft((d) => ({ ...d, fields: { ...d.fields, [key]: value } }));
  const teamChoices =
    teams.some((t) => t.id === draft.team_id) || !draft.team_id
      ? teams
      : [...teams, { id: draft.team_id, name: draft.team_id }];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    setFailure(undefined);
    const found = draftProblems(draft, creating);
    if (Object.keys(found).length) {
      document.getElementById(Object.keys(found)[0]!)?.focus();
      return;
    }
    setSaving(true);
    try {
      // PUT creates or updates: make sure a "create" never overwrites an application made meanwhile.
      if (creating && (await api.applicationExists(draft.id))) {
        setFailure(`The id ${draft.id} was taken meanwhile. Choose another.`);
        return;
      }
      const saved = await api.putApplication(creating ? draft.id : app.id, bodyOf(draft, creating));
      navigate(path('applications', saved.id));
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate>
      {creating ? (
        <Field
          id="id"
          label="Application id"
          required
          problem={problems.id}
          status={<IdStatus id={draft.id} />}
        >
          {(describedBy, invalid) => (
            <input
              id="id"
              value={draft.id}
              autoComplete="off"
              spellCheck={false}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(e) => set({ id: e.target.value })}
            />
          )}
        </Field>
      ) : (
        <p>
          Application id: <code>{app.id}</code>
        </p>
      )}
      <Field
        id="team_id"
        label="Team"
        required
        problem={problems.team_id}
        hint={teams.length ? undefined : 'You are in no team: enter the owning team id.'}
      >
        {(describedBy, invalid) =>
          teamChoices.length ? (
            <select
              id="team_id"
              value={draft.team_id}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(e) => set({ team_id: e.target.value })}
            >
              {teamChoices.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.id}
                  {t.name !== t.id ? ` (${t.name})` : ''}
                </option>
              ))}
            </select>
          ) : (
            <input
              id="team_id"
              value={draft.team_id}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(e) => set({ team_id: e.target.value })}
            />
          )
        }
      </Field>
      <Field id="name" label="Name" required problem={problems.name}>
        {(describedBy, invalid) => (
          <input
            id="name"
            value={draft.name}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => set({ name: e.target.value })}
          />
        )}
      </Field>
      <Field id="description" label="Description">
        {(describedBy) => (
          <textarea
            id="description"
            rows={5}
            value={draft.description}
            aria-describedby={describedBy}
            onChange={(e) => set({ description: e.target.value })}
          />
        )}
      </Field>
      {TEXT_FIELDS.map(([key, label, hint]) => (
        <Field key={key} id={key} label={label} hint={hint} problem={problems[key]}>
          {(describedBy, invalid) => (
            <input
              id={key}
              type={URL_FIELDS.has(key) ? 'url' : 'text'}
              inputMode={URL_FIELDS.has(key) ? 'url' : undefined}
              value={draft.fields[key]}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(e) => setField(key, e.target.value)}
            />
          )}
        </Field>
      ))}
      <Field id="criticality_level" label="Criticality" hint="1 is lowest, 4 is highest.">
        {(describedBy) => (
          <select
            id="criticality_level"
            value={draft.criticality_level}
            aria-describedby={describedBy}
            onChange={(e) => set({ criticality_level: Number(e.target.value) })}
          >
            {[1, 2, 3, 4].map((level) => (
              <option key={level} value={level}>
                {level}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="checkbox">
        <input
          id="active"
          type="checkbox"
          checked={draft.active}
          onChange={(e) => set({ active: e.target.checked })}
        />
        <label htmlFor="active">Active (the application is in use)</label>
      </div>
      <div className="checkbox">
        <input
          id="publicly_accessible"
          type="checkbox"
          checked={draft.publicly_accessible}
          onChange={(e) => set({ publicly_accessible: e.target.checked })}
        />
        <label htmlFor="publicly_accessible">Publicly accessible from the internet</label>
      </div>
      {failure && <ErrorNotice error={failure} />}
      <div className="actions">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Saving…' : creating ? 'Create application' : 'Save changes'}
        </button>
        <Link to={creating ? '/applications' : path('applications', app.id)} className="button secondary">
          Cancel
        </Link>
      </div>
    </form>
  );
}

export function ApplicationFormPage({ id }: { id?: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => (id ? api.getApplication(id) : undefined), [id]);
  return (
    <section>
      <h1>{id ? `Edit ${id}` : 'New application'}</h1>
      {!id && (
        <p>Register an application in Kio. Its id must be unique; the console checks it while you type.</p>
      )}
      <Loaded state={state} label="Loading the application…">
        {(app) => (app ? <ApplicationForm app={app} /> : <ApplicationForm />)}
      </Loaded>
    </section>
  );
}
