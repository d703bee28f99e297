// @vitest-environment happy-dom
import { act, createElement } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Application } from '../api/types';
import { bodyOf, draftOf, draftProblems } from '../pages/application-form';
import { ScopeKindChoice } from '../pages/scope-form';
import { ScopeUsage } from '../pages/scope-detail';
import { keySummary } from '../pages/ssh-keys';
import { render, text } from '../test-support/render';
import { type Availability, useAvailability } from '../use-availability';
import type { Load } from '../use-load';
import { Empty, ErrorNotice, Loaded } from './states';

afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = '';
});

describe('loading, error and empty states', () => {
  it('announces loading, shows errors in words with a retry, and renders data when ready', async () => {
    const view = (state: Load<string[]>) =>
      createElement(Loaded<string[]>, {
        state,
        label: 'Loading applications…',
        children: (data) =>
          data.length ? data.join(',') : createElement(Empty, { title: 'No application yet.' }),
      });
    const retry = vi.fn();
    const r = await render(view({ status: 'loading' }));
    expect(r.container.querySelector('[role="status"]')?.textContent).toBe('Loading applications…');

    await r.rerender(view({ status: 'error', error: new Error('Kio is not available right now.'), retry }));
    const alert = r.container.querySelector('[role="alert"]');
    expect(text(alert?.querySelector('p'))).toBe('Kio is not available right now.');
    expect(text(alert?.querySelector('button'))).toBe('Try again');
    await act(async () => alert!.querySelector('button')!.click());
    expect(retry).toHaveBeenCalledOnce();

    await r.rerender(view({ status: 'ready', data: [], reload: () => undefined }));
    expect(text(r.container)).toBe('No application yet.');
    await r.rerender(view({ status: 'ready', data: ['a', 'b'], reload: () => undefined }));
    expect(text(r.container)).toBe('a,b');
  });

  it('shows an error without retry when there is nothing to retry', async () => {
    const r = await render(createElement(ErrorNotice, { error: 'The id hello was taken meanwhile.' }));
    expect(r.container.querySelector('button')).toBeNull();
  });

  it('says why no application uses a scope yet', async () => {
    const r = await render(createElement(ScopeUsage));
    expect(text(r.container)).toContain('No application uses this scope yet.');
    expect(text(r.container)).toContain('does not run mint yet');
  });
});

describe('scope kind choice', () => {
  it('disables resource-owner scopes on a type without owners and says why', async () => {
    const onChange = vi.fn();
    const r = await render(createElement(ScopeKindChoice, { owners: [], value: 'application', onChange }));
    const owner = r.container.querySelector<HTMLInputElement>('#kind-resource-owner')!;
    expect(owner.disabled).toBe(true);
    expect(text(r.container.querySelector('#kind-resource-owner-help'))).toContain(
      'this resource type has no resource owners',
    );
    expect(r.container.querySelector<HTMLInputElement>('#kind-application')!.checked).toBe(true);
  });

  it('offers both kinds when the type has owners', async () => {
    const onChange = vi.fn();
    const r = await render(
      createElement(ScopeKindChoice, { owners: ['employees'], value: 'application', onChange }),
    );
    const owner = r.container.querySelector<HTMLInputElement>('#kind-resource-owner')!;
    expect(owner.disabled).toBe(false);
    await act(async () => owner.click());
    expect(onChange).toHaveBeenCalledWith('resource-owner');
  });
});

function AvailabilityProbe(props: {
  id: string;
  exists: (id: string, signal: AbortSignal) => Promise<boolean>;
  onState: (a: Availability) => void;
}) {
  props.onState(
    useAvailability(props.id, (id) => (/^[a-z]+$/.test(id) ? undefined : 'letters only'), props.exists, 300),
  );
  return null;
}

describe('live id check', () => {
  it('reports malformed ids at once and asks the service only after typing pauses', async () => {
    vi.useFakeTimers();
    const exists = vi.fn(async (id: string) => id === 'taken');
    const states: Availability[] = [];
    const probe = (id: string) =>
      createElement(AvailabilityProbe, { id, exists, onState: (a) => states.push(a) });
    const r = await render(probe(''));
    expect(states.at(-1)).toEqual({ kind: 'empty' });
    await r.rerender(probe('Bad1'));
    expect(states.at(-1)).toEqual({ kind: 'invalid', message: 'letters only' });
    await r.rerender(probe('tak'));
    await r.rerender(probe('taken'));
    expect(states.at(-1)).toEqual({ kind: 'checking' });
    expect(exists).not.toHaveBeenCalled();
    await act(async () => vi.advanceTimersByTimeAsync(300));
    expect(exists).toHaveBeenCalledTimes(1);
    expect(exists.mock.calls[0]![0]).toBe('taken');
    expect(states.at(-1)).toEqual({ kind: 'taken' });
    await r.rerender(probe('free'));
    await act(async () => vi.advanceTimersByTimeAsync(300));
    expect(states.at(-1)).toEqual({ kind: 'free' });
  });

  it('says when the check itself failed', async () => {
    vi.useFakeTimers();
    const states: Availability[] = [];
    await render(
      createElement(AvailabilityProbe, {
        id: 'hello',
        exists: async () => {
          throw new Error('The console cannot reach Kio.');
        },
        onState: (a) => states.push(a),
      }),
    );
    await act(async () => vi.advanceTimersByTimeAsync(300));
    expect(states.at(-1)).toEqual({ kind: 'unknown', message: 'The console cannot reach Kio.' });
  });
});

describe('application form', () => {
  const app: Application = {
    id: 'hello',
    team_id: 'demo',
    active: true,
    name: 'Hello',
    subtitle: 'Says hello',
    description: null,
    service_url: null,
    scm_url: 'https://git.example.org/demo/hello',
    documentation_url: null,
    specification_url: null,
    support_url: null,
    specification_type: null,
    criticality_level: 3,
    publicly_accessible: false,
    incident_contact: null,
    created: '2025-01-01T00:00:00.000Z',
    created_by: 'jdoe',
    last_modified: '2025-01-01T00:00:00.000Z',
    last_modified_by: 'jdoe',
  };

  it('lists every problem of a new application by field', () => {
    const draft = {
      ...draftOf(undefined, ''),
      id: 'Hello',
      fields: { ...draftOf(undefined, '').fields, scm_url: 'github.com/x' },
    };
    expect(draftProblems(draft, true)).toEqual({
      id: 'Use lowercase letters only.',
      team_id: 'Choose the team that owns the application.',
      name: 'Enter a name.',
      scm_url: 'Enter a full address starting with https:// or http://.',
    });
    expect(draftProblems({ ...draftOf(undefined, 'demo'), id: 'hello', name: 'Hello' }, true)).toEqual({});
  });

  it('leaves empty fields out on creation and clears them on edit', () => {
    const created = bodyOf({ ...draftOf(undefined, 'demo'), id: 'hello', name: ' Hello ' }, true);
    expect(created).toEqual({
      team_id: 'demo',
      name: 'Hello',
      active: true,
      publicly_accessible: false,
      criticality_level: 2,
    });

    const edited = draftOf(app, 'demo');
    edited.fields.subtitle = '';
    expect(bodyOf(edited, false)).toMatchObject({
      subtitle: '',
      scm_url: 'https://git.example.org/demo/hello',
      criticality_level: 3,
      description: '',
    });
  });
});

describe('SSH key summary', () => {
  it('names a key by its type and comment, leaving out the long key data', () => {
    expect(keySummary('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ jane@laptop work')).toBe(
      'ssh-ed25519 … jane@laptop work',
    );
    expect(keySummary('  ecdsa-sha2-nistp256 AAAAE2VjZHNh  ')).toBe('ecdsa-sha2-nistp256');
  });
});

describe('audit log CSV', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', async () => {
    const { auditCsv, csvField } = await import('../lib/csv');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1+2')).toBe("'-1+2");
    const csv = auditCsv([
      {
        id: '7',
        occurred_at: '2026-01-31T10:00:00.000Z',
        service: 'kio',
        action: 'kio.application.put',
        actor: 'jdoe',
        actor_realm: 'employees',
        target_type: 'application',
        target_id: 'hello',
        outcome: 'success',
        details: { team: 'demo', changed: ['name', 'url'] },
        request_id: null,
      },
    ]);
    expect(csv).toBe(
      'id,occurred_at,component,action,actor,actor_realm,target_type,target_id,outcome,request_id,details\r\n' +
        '7,2026-01-31T10:00:00.000Z,kio,kio.application.put,jdoe,employees,application,hello,success,,' +
        '"{""team"":""demo"",""changed"":[""name"",""url""]}"\r\n',
    );
  });
});

describe('image sizes', () => {
  it('counts in binary units as docker does', async () => {
    const { formatBytes } = await import('../lib/format');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(73_400_320)).toBe('70.0 MiB');
  });
});
