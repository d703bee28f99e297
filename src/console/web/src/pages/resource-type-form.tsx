import { type FormEvent, useState } from 'react';
import type { ResourceType } from '../api/types';
import { Field } from '../components/field';
import { ErrorNotice, Loaded } from '../components/states';
import { parseResourceOwners, resourceTypeIdProblem } from '../../../shared/rules';
import { Link, path, useRouter } from '../router';
import { useSignedIn } from '../session';
import { useAvailability } from '../use-availability';
import { useLoad } from '../use-load';

function TypeIdStatus({ id }: { id: string }) {
  const { api } = useSignedIn();
  // One question answers both: is the id taken, and would essentials let this person create it.
  const a = useAvailability(id, resourceTypeIdProblem, async (candidate, signal) => {
    const permission = await api.resourceTypePermission(candidate, signal);
    if (permission.exists) return true;
    if (permission.may_write) return false;
    return {
      refused: permission.owning_team
        ? `Only members of team ${permission.owning_team}, which owns the application ${candidate.split('.')[0]}, or administrators may create ${candidate}.`
        : `Only administrators may create ${candidate}: name it after an application of your team, e.g. my-app.${candidate}.`,
    };
  });
  if (a.kind === 'empty')
    return <>e.g. sales_order, or hello-world.orders for your application hello-world.</>;
  if (a.kind === 'invalid') return <span className="bad">{a.message}</span>;
  if (a.kind === 'checking') return <>Checking whether {id} is free…</>;
  if (a.kind === 'free') return <span className="good">✓ {id} is free.</span>;
  if (a.kind === 'refused') return <span className="bad">{a.message}</span>;
  if (a.kind === 'taken') {
    return (
      <span className="bad">
        {id} exists already. See <Link to={path('resource-types', id)}>the resource type</Link>.
      </span>
    );
  }
  return <span className="bad">Could not check the id: {a.message}</span>;
}

function ResourceTypeForm({ type }: { type?: ResourceType }) {
  const { api } = useSignedIn();
  const { navigate } = useRouter();
  const creating = !type;
  const [id, setId] = useState(type?.id ?? '');
  const [name, setName] = useState(type?.name ?? '');
  const [description, setDescription] = useState(type?.description ?? '');
  const [owners, setOwners] = useState(type?.resource_owners.join(', ') ?? '');
  const [touched, setTouched] = useState(false);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const parsedOwners = parseResourceOwners(owners);
  const problems: Record<string, string | undefined> = touched
    ? {
        id: creating ? resourceTypeIdProblem(id) : undefined,
        name: name.trim() ? undefined : 'Enter a name.',
        owners: parsedOwners.problem,
      }
    : {};

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    setFailure(undefined);
    const first = [
      creating && resourceTypeIdProblem(id) && 'rt-id',
      !name.trim() && 'rt-name',
      parsedOwners.problem && 'rt-owners',
    ].find(Boolean);
    if (first) {
      document.getElementById(first)?.focus();
      return;
    }
    setSaving(true);
    try {
      if (creating) {
        const permission = await api.resourceTypePermission(id);
        if (permission.exists) {
          setFailure(`The id ${id} was taken meanwhile. Choose another.`);
          return;
        }
        if (!permission.may_write) {
          setFailure(`You may not create ${id}; see the note under the id.`);
          return;
        }
      }
      const saved = await api.putResourceType(creating ? id : type.id, {
        name: name.trim(),
        description,
        resource_owners: parsedOwners.owners,
      });
      navigate(path('resource-types', saved.id));
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
          id="rt-id"
          label="Resource type id"
          required
          problem={problems.id}
          status={<TypeIdStatus id={id} />}
        >
          {(describedBy, invalid) => (
            <input
              id="rt-id"
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
          Resource type id: <code>{type.id}</code>
        </p>
      )}
      <Field id="rt-name" label="Name" required problem={problems.name}>
        {(describedBy, invalid) => (
          <input
            id="rt-name"
            value={name}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </Field>
      <Field id="rt-description" label="Description">
        {(describedBy) => (
          <textarea
            id="rt-description"
            rows={4}
            value={description}
            aria-describedby={describedBy}
            onChange={(e) => setDescription(e.target.value)}
          />
        )}
      </Field>
      <Field
        id="rt-owners"
        label="Resource owners"
        hint="Who owns resources of this type, comma-separated, e.g. employees, customers. Leave empty when only applications access it: then its scopes can only be application scopes."
        problem={problems.owners}
      >
        {(describedBy, invalid) => (
          <input
            id="rt-owners"
            value={owners}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setOwners(e.target.value)}
          />
        )}
      </Field>
      <p className="hint">
        Platform administrators can change every resource type; members of an application's team can change
        the types whose id starts with the application id (hello-world.orders for hello-world).
      </p>
      {failure && <ErrorNotice error={failure} />}
      <div className="actions">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Saving…' : creating ? 'Create resource type' : 'Save changes'}
        </button>
        <Link
          to={creating ? '/resource-types' : path('resource-types', type.id)}
          className="button secondary"
        >
          Cancel
        </Link>
      </div>
    </form>
  );
}

export function ResourceTypeFormPage({ id }: { id?: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => (id ? api.resourceType(id) : undefined), [id]);
  return (
    <section>
      <h1>{id ? `Edit resource type ${id}` : 'New resource type'}</h1>
      <Loaded state={state} label="Loading the resource type…">
        {(type) => (type ? <ResourceTypeForm type={type} /> : <ResourceTypeForm />)}
      </Loaded>
    </section>
  );
}
