import { type FormEvent, useRef, useState } from 'react';
import { ApiError } from '../api/api-error';
import type { SshKey } from '../api/types';
import { Field } from '../components/field';
import { Empty, ErrorNotice, Loaded } from '../components/states';
import { formatTimestamp, plural } from '../lib/format';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** `ssh-ed25519 AAAA… jane@laptop` → `ssh-ed25519 … jane@laptop`: the type and comment say which key it is. */
export function keySummary(publicKey: string): string {
  const [type = '', , ...comment] = publicKey.trim().split(/\s+/);
  return comment.length ? `${type} … ${comment.join(' ')}` : type;
}

/** Why the service refused: its own words (a private key pasted, a weak key), not the generic sentence. */
function refusal(error: unknown): string {
  if (error instanceof ApiError && error.status === 400 && error.detail) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

function AddKeyForm({ uid, onAdded }: { uid: string; onAdded: (key: SshKey) => void }) {
  const { api } = useSignedIn();
  const [publicKey, setPublicKey] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    if (!publicKey.trim()) {
      setProblem('Paste the contents of your .pub file.');
      input.current?.focus();
      return;
    }
    setProblem(undefined);
    setSaving(true);
    try {
      const added = await api.addSshKey(uid, publicKey.trim());
      setPublicKey('');
      onAdded(added);
    } catch (error) {
      setFailure(refusal(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="form"
      onSubmit={(event) => void submit(event)}
      noValidate
      aria-labelledby="add-key-heading"
    >
      <h2 id="add-key-heading">Add a key</h2>
      <Field
        id="ssh-public-key"
        label="Public key"
        required
        problem={problem}
        hint={
          <>
            The one line of your <code>.pub</code> file, e.g. <code>~/.ssh/id_ed25519.pub</code>. Never paste
            the private key.
          </>
        }
      >
        {(describedBy, invalid) => (
          <textarea
            id="ssh-public-key"
            ref={input}
            rows={4}
            value={publicKey}
            spellCheck={false}
            autoComplete="off"
            className="key-input"
            placeholder="ssh-ed25519 AAAA… you@laptop"
            aria-describedby={describedBy}
            aria-invalid={invalid}
            onChange={(e) => setPublicKey(e.target.value)}
          />
        )}
      </Field>
      {failure && <ErrorNotice error={`The key was not added: ${failure}`} />}
      <div className="actions">
        <button type="submit" className="button" disabled={saving}>
          {saving ? 'Adding…' : 'Add key'}
        </button>
      </div>
    </form>
  );
}

function KeyList({ uid, keys, onRemoved }: { uid: string; keys: SshKey[]; onRemoved: () => void }) {
  const { api } = useSignedIn();
  const [failure, setFailure] = useState<string | undefined>();
  const [removing, setRemoving] = useState<string | undefined>();

  const remove = async (key: SshKey) => {
    if (!window.confirm(`Remove the key ${key.fingerprint}? Bastion hosts will no longer accept it.`)) return;
    setFailure(undefined);
    setRemoving(key.fingerprint);
    try {
      await api.removeSshKey(uid, key.fingerprint);
      onRemoved();
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setRemoving(undefined);
    }
  };

  if (keys.length === 0) {
    return <Empty title="You have no SSH key registered yet." />;
  }
  return (
    <>
      {failure && <ErrorNotice error={failure} />}
      <ul className="key-list" aria-label={plural(keys.length, 'registered key')}>
        {keys.map((key) => (
          <li key={key.fingerprint} className="key">
            <div className="key-facts">
              <code className="fingerprint">{key.fingerprint}</code>
              <span className="muted block">
                {keySummary(key.public_key)} · added {formatTimestamp(key.created)}
              </span>
            </div>
            <button
              type="button"
              className="button secondary small"
              disabled={removing === key.fingerprint}
              aria-label={`Remove key ${key.fingerprint}`}
              onClick={() => void remove(key)}
            >
              {removing === key.fingerprint ? 'Removing…' : 'Remove'}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

export function SshKeysPage() {
  const { api, user } = useSignedIn();
  const uid = user.sub;
  const state = useLoad(() => api.sshKeys(uid), [uid]);
  const [added, setAdded] = useState<string | undefined>();
  const keysHeading = useRef<HTMLHeadingElement>(null);
  return (
    <section>
      <h1>SSH keys</h1>
      <p>
        After <code>piu</code> grants you access to a host, the odd bastion lets you in with one of these
        keys. You can also manage them from a terminal with <code>stups ssh-key add</code>.
      </p>
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading" ref={keysHeading} tabIndex={-1}>
          Your keys
        </h2>
        <p className="visually-hidden" role="status" aria-live="polite">
          {added ? `Key ${added} added.` : ''}
        </p>
        <Loaded state={state} label="Loading your SSH keys…">
          {(keys, reload) => (
            <KeyList
              uid={uid}
              keys={keys}
              onRemoved={() => {
                setAdded(undefined);
                reload();
                // The button that had focus is gone with its key: focus goes to the list, not to <body>.
                keysHeading.current?.focus();
              }}
            />
          )}
        </Loaded>
      </section>
      <AddKeyForm
        uid={uid}
        onAdded={(key) => {
          setAdded(key.fingerprint);
          if (state.status === 'ready') state.reload();
          else if (state.status === 'error') state.retry();
        }}
      />
    </section>
  );
}
