import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiError } from '../api/api-error';
import type { Application, MintApp, MintAppPut, ResourceTypeSummary, Scope, ScopeRef } from '../api/types';
import { Empty, ErrorNotice, Loaded } from '../components/states';
import { Field } from '../components/field';
import { formatTimestamp } from '../lib/format';
import { SCOPE_KIND_HELP } from '../../../shared/rules';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLiveLoad, useLoad } from '../use-load';

/** mint's worker runs every few seconds: re-reading the status this often shows a rotation soon after it happens. */
const STATUS_REFRESH_MS = 3000;

function refusal(error: unknown): string {
  if (error instanceof ApiError && error.detail) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="dl-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** The exact instant stays machine-readable in `datetime`; people read minutes. */
function When({ value }: { value: string | null }) {
  return value ? (
    <time dateTime={value}>{formatTimestamp(value)}</time>
  ) : (
    <span className="muted">not yet</span>
  );
}

const keyOf = (ref: ScopeRef) => `${ref.resource_type_id}.${ref.scope_id}`;

interface Catalogue {
  types: ResourceTypeSummary[];
  scopes: Map<string, Scope[]>;
}

/** Every scope essentials knows, by resource type (the choices of the access control). */
function useCatalogue() {
  const { api } = useSignedIn();
  return useLoad(async (): Promise<Catalogue> => {
    const types = await api.resourceTypes();
    const lists = await Promise.all(types.map((type) => api.scopes(type.id)));
    const scopes = new Map<string, Scope[]>();
    types.forEach((type, index) => scopes.set(type.id, lists[index] ?? []));
    return { types, scopes };
  }, []);
}

/** Checkboxes of every scope, one group per resource type. */
function ScopePicker({
  catalogue,
  chosen,
  onChange,
}: {
  catalogue: Catalogue;
  chosen: Set<string>;
  onChange: (next: Set<string>) => void;
}) {
  const withScopes = catalogue.types.filter((type) => (catalogue.scopes.get(type.id) ?? []).length > 0);
  if (withScopes.length === 0) return <Empty title="essentials has no scope yet." />;
  const toggle = (key: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(key);
    else next.delete(key);
    onChange(next);
  };
  return (
    <div className="scope-groups">
      {withScopes.map((type) => (
        <fieldset key={type.id} className="field">
          <legend>
            {type.name} <code className="muted">{type.id}</code>
          </legend>
          {(catalogue.scopes.get(type.id) ?? []).map((scope) => {
            const key = `${type.id}.${scope.id}`;
            const id = `scope-${key}`;
            return (
              <div className="checkbox" key={key}>
                <input
                  id={id}
                  type="checkbox"
                  checked={chosen.has(key)}
                  onChange={(e) => toggle(key, e.target.checked)}
                />
                <label htmlFor={id}>
                  <code>{key}</code> {scope.summary}{' '}
                  <span className="muted">
                    ({scope.is_resource_owner_scope ? 'resource owner scope' : 'application scope'})
                  </span>
                </label>
              </div>
            );
          })}
        </fieldset>
      ))}
    </div>
  );
}

function refsOf(chosen: Set<string>, catalogue: Catalogue): ScopeRef[] {
  const refs: ScopeRef[] = [];
  for (const type of catalogue.types) {
    for (const scope of catalogue.scopes.get(type.id) ?? []) {
      if (chosen.has(`${type.id}.${scope.id}`)) refs.push({ resource_type_id: type.id, scope_id: scope.id });
    }
  }
  return refs;
}

function ScopeKinds() {
  return (
    <ul className="hint">
      <li>
        <strong>Application scopes</strong>: {SCOPE_KIND_HELP.application} The application&apos;s service user
        holds them and uses them with its own credentials.
      </li>
      <li>
        <strong>Resource owner scopes</strong>: {SCOPE_KIND_HELP['resource-owner']} The client may only ask
        for them on behalf of a signed-in person.
      </li>
    </ul>
  );
}

/** Access control of a configured application: the scopes mint gives it, saved with the rest kept. */
function AccessControl({ config, mayChange }: { config: MintApp; mayChange: boolean }) {
  const { api } = useSignedIn();
  const catalogue = useCatalogue();
  const [chosen, setChosen] = useState(() => new Set(config.scopes.map(keyOf)));
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);

  if (!mayChange) {
    return config.scopes.length === 0 ? (
      <Empty title="No scope is granted." />
    ) : (
      <ul className="granted-scopes">
        {config.scopes.map((ref) => (
          <li key={keyOf(ref)}>
            <Link to={path('resource-types', ref.resource_type_id, 'scopes', ref.scope_id)}>
              <code>{keyOf(ref)}</code>
            </Link>
          </li>
        ))}
      </ul>
    );
  }

  const save = async (event: FormEvent, data: Catalogue) => {
    event.preventDefault();
    setFailure(undefined);
    setSaved(false);
    setSaving(true);
    try {
      // The existing configuration is kept: only the scopes change.
      const body: MintAppPut = {
        is_client_confidential: config.is_client_confidential,
        redirect_url: config.redirect_url ?? '',
        s3_buckets: config.s3_buckets,
        scopes: refsOf(chosen, data),
      };
      await api.putMintApp(config.id, body);
      setSaved(true);
    } catch (error) {
      setFailure(refusal(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Loaded state={catalogue} label="Loading the scopes from essentials…">
      {(data) => (
        <form
          className="form"
          noValidate
          onSubmit={(event) => void save(event, data)}
          aria-label="Access control"
        >
          <ScopeKinds />
          <ScopePicker catalogue={data} chosen={chosen} onChange={setChosen} />
          {failure && <ErrorNotice error={failure} />}
          <div className="actions">
            <button type="submit" className="button" disabled={saving}>
              {saving ? 'Saving…' : 'Save scopes'}
            </button>
            <p className="field-status" role="status" aria-live="polite">
              {saved ? 'Saved: the credentials get the new scopes on the next rotation.' : ''}
            </p>
          </div>
        </form>
      )}
    </Loaded>
  );
}

/** An application mint does not know yet: how to configure it, and for its team a form that does. */
function Unconfigured({
  app,
  mayChange,
  onSaved,
}: {
  app: Application;
  mayChange: boolean;
  onSaved: () => void;
}) {
  const { api } = useSignedIn();
  const catalogue = useCatalogue();
  const [bucket, setBucket] = useState(`${app.team_id}-stups-mint`);
  const [confidential, setConfidential] = useState(true);
  const [chosen, setChosen] = useState(() => new Set<string>());
  const [problem, setProblem] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);

  const create = async (event: FormEvent, data: Catalogue) => {
    event.preventDefault();
    setFailure(undefined);
    if (!bucket.trim()) {
      setProblem('Name the bucket berry reads the credentials from.');
      return;
    }
    setProblem(undefined);
    setSaving(true);
    try {
      await api.putMintApp(app.id, {
        is_client_confidential: confidential,
        redirect_url: '',
        s3_buckets: [bucket.trim()],
        scopes: refsOf(chosen, data),
      });
      onSaved();
    } catch (error) {
      setFailure(refusal(error));
      setSaving(false);
    }
  };

  return (
    <>
      <Empty title={`mint has no configuration for ${app.id} yet.`}>
        <p>
          With one, mint creates the service user and OAuth client <code>stups_{app.id}</code> and writes
          their credentials to the team&apos;s bucket, where berry picks them up. From the command line:{' '}
          <code>stups mint configure {app.id} -b BUCKET -s RESOURCE_TYPE.SCOPE</code>
        </p>
      </Empty>
      {mayChange && (
        <Loaded state={catalogue} label="Loading the scopes from essentials…">
          {(data) => (
            <form
              className="form"
              noValidate
              onSubmit={(event) => void create(event, data)}
              aria-label="Configure mint"
            >
              <Field
                id="mint-bucket"
                label="Bucket"
                hint="The S3 bucket (or folder) mint writes user.json and client.json to."
                problem={problem}
                required
              >
                {(describedBy, invalid) => (
                  <input
                    id="mint-bucket"
                    value={bucket}
                    onChange={(e) => setBucket(e.target.value)}
                    aria-describedby={describedBy}
                    aria-invalid={invalid}
                  />
                )}
              </Field>
              <div className="checkbox">
                <input
                  id="mint-confidential"
                  type="checkbox"
                  checked={confidential}
                  onChange={(e) => setConfidential(e.target.checked)}
                />
                <label htmlFor="mint-confidential">Confidential client (it keeps a client secret)</label>
              </div>
              <ScopeKinds />
              <ScopePicker catalogue={data} chosen={chosen} onChange={setChosen} />
              {failure && <ErrorNotice error={failure} />}
              <div className="actions">
                <button type="submit" className="button" disabled={saving}>
                  {saving ? 'Configuring…' : 'Configure mint'}
                </button>
              </div>
            </form>
          )}
        </Loaded>
      )}
    </>
  );
}

/** Why a redirect URL would be refused, in the words a person can act on; undefined when fine. */
export function redirectUrlProblem(value: string): string | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter the full address, e.g. https://my-app.example.org/callback.';
  }
  if (url.protocol !== 'https:') {
    return `The redirect URL must start with https:// (mint refuses ${url.protocol}// addresses: codes and tokens would travel unencrypted).`;
  }
  return undefined;
}

/** Redirect URL and confidentiality of the OAuth client, saved with the rest of the configuration kept. */
function ClientSettings({ config }: { config: MintApp }) {
  const { api } = useSignedIn();
  const [redirectUrl, setRedirectUrl] = useState(config.redirect_url ?? '');
  const [confidential, setConfidential] = useState(config.is_client_confidential);
  const [problem, setProblem] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    setSaved(false);
    const invalid = redirectUrlProblem(redirectUrl);
    setProblem(invalid);
    if (invalid) return;
    setSaving(true);
    try {
      await api.putMintApp(config.id, {
        is_client_confidential: confidential,
        redirect_url: redirectUrl.trim(),
        s3_buckets: config.s3_buckets,
        scopes: config.scopes,
      });
      // No reload: it would replace this form and its message; the status refresh shows the change.
      setSaved(true);
    } catch (error) {
      setFailure(refusal(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="form"
      noValidate
      onSubmit={(event) => void save(event)}
      aria-label="OAuth client settings"
    >
      <Field
        id="mint-redirect-url"
        label="Redirect URL"
        hint="Where people return after signing in through the application (https only); empty for none."
        problem={problem}
      >
        {(describedBy, invalid) => (
          <input
            id="mint-redirect-url"
            type="url"
            inputMode="url"
            placeholder="https://my-app.example.org/callback"
            value={redirectUrl}
            onChange={(e) => setRedirectUrl(e.target.value)}
            aria-describedby={describedBy}
            aria-invalid={invalid}
          />
        )}
      </Field>
      <div className="checkbox">
        <input
          id="mint-settings-confidential"
          type="checkbox"
          checked={confidential}
          onChange={(e) => setConfidential(e.target.checked)}
        />
        <label htmlFor="mint-settings-confidential">
          Confidential client (it keeps a client secret; a public one runs where a secret cannot be kept)
        </label>
      </div>
      {failure && <ErrorNotice error={failure} />}
      <div className="actions">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Saving…' : 'Save client settings'}
        </button>
        <p className="field-status" role="status" aria-live="polite">
          {saved ? 'Saved: mint applies them on its next run.' : ''}
        </p>
      </div>
    </form>
  );
}

function ClientFacts({ config }: { config: MintApp }) {
  return (
    <dl className="facts" aria-label="OAuth client">
      <Row label="Client id">
        <code>{config.client_id}</code>
      </Row>
      <Row label="Service user">
        <code>{config.username}</code>
      </Row>
      <Row label="Client type">{config.is_client_confidential ? 'confidential' : 'public'}</Row>
      <Row label="Redirect URL">{config.redirect_url || <span className="muted">not set</span>}</Row>
      <Row label="Buckets">{config.s3_buckets.join(', ')}</Row>
      <Row label="Last password rotation">
        <When value={config.last_password_rotation} />
      </Row>
      <Row label="Last client rotation">
        <When value={config.last_client_rotation} />
      </Row>
      <Row label="Status">
        {config.has_problems ? (
          <span className="problem">
            {config.message || 'The last run failed.'}
            {config.s3_errors > 0 && ` (${config.s3_errors} bucket errors in a row)`}
          </span>
        ) : (
          'no problems'
        )}
      </Row>
    </dl>
  );
}

/** The application page's OAuth client panel and access control, from mint. */
export function MintPanel({ app, mayChange }: { app: Application; mayChange: boolean }) {
  const { api } = useSignedIn();
  const state = useLiveLoad((signal) => api.mintApp(app.id, signal), [app.id], STATUS_REFRESH_MS);
  const [renewing, setRenewing] = useState(false);
  const [renewal, setRenewal] = useState<{ ok: boolean; text: string } | undefined>();

  // No reload afterwards: the status refresh shows the rotation once the worker has made it.
  const renew = async () => {
    setRenewal(undefined);
    setRenewing(true);
    try {
      await api.renewMintApp(app.id);
      setRenewal({
        ok: true,
        // mint queues a rotation while the previous generation is still in its grace.
        text: 'Rotation requested: mint rotates both credentials on its next run, or once the previous ones have been retired.',
      });
    } catch (error) {
      setRenewal({ ok: false, text: refusal(error) });
    } finally {
      setRenewing(false);
    }
  };

  return (
    <>
      <section aria-labelledby="oauth-heading">
        <div className="page-header">
          <h2 id="oauth-heading">OAuth client</h2>
          {mayChange && state.status === 'ready' && state.data && (
            <button
              type="button"
              className="button secondary"
              disabled={renewing}
              onClick={() => void renew()}
            >
              {renewing ? 'Requesting…' : 'Rotate now'}
            </button>
          )}
        </div>
        {renewal &&
          (renewal.ok ? (
            <p className="notice" role="status">
              {renewal.text}
            </p>
          ) : (
            <ErrorNotice error={renewal.text} />
          ))}
        <Loaded state={state} label="Loading the OAuth client from mint…">
          {(config, reload) =>
            config ? (
              <>
                <ClientFacts config={config} />
                {mayChange && <ClientSettings config={config} />}
              </>
            ) : (
              <Unconfigured app={app} mayChange={mayChange} onSaved={reload} />
            )
          }
        </Loaded>
      </section>
      {state.status === 'ready' && state.data && (
        <section aria-labelledby="access-heading">
          <h2 id="access-heading">Access control</h2>
          <AccessControl config={state.data} mayChange={mayChange} />
        </section>
      )}
    </>
  );
}
