import { type FormEvent, useState } from 'react';
import type { Fact, Trace, TraceLink } from '../../../../trace/chain.js';
import { Empty, Loaded } from '../components/states';
import { useRouter } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import './trace.css';

/** The words a screen reader hears and everyone reads: colour only repeats them. */
const STATUS_TEXT = { ok: 'holds', broken: 'broken', unknown: 'not checked', warning: 'note' } as const;

const KIND_TEXT: Record<TraceLink['kind'], string> = {
  instance: 'Instance',
  ami: 'AMI',
  'taupage-config': 'Taupage config',
  image: 'Image',
  'scm-source': 'Commit (scm-source)',
  provenance: 'Provenance',
  ticket: 'Ticket',
  'kio-app': 'Application (Kio)',
  deployments: 'Deployments',
  'ssh-access': 'SSH access',
  violations: 'Violations',
};

const showFact = (value: Fact) => (value === null ? '–' : String(value));

/**
 * One link and, nested below it, the links after it: the chain is a path, so each link sits
 * one level below the one before, and an application's images branch (as the CLI's text tree).
 */
function LinkItem({ link, rest }: { link: TraceLink; rest: TraceLink[] }) {
  const below = [...(link.children ?? []).map((c) => ({ link: c, rest: [] as TraceLink[] }))];
  const [next, ...after] = rest;
  if (next) below.push({ link: next, rest: after });
  const facts = Object.entries(link.facts);
  return (
    <li>
      <article
        className={`trace-link ${link.status}`}
        aria-label={`${KIND_TEXT[link.kind]}: ${STATUS_TEXT[link.status]}`}
      >
        <h3 className="trace-link-head">
          <span className="trace-status">{STATUS_TEXT[link.status]}</span>
          <span>{KIND_TEXT[link.kind]}</span>
          <code>{link.label}</code>
        </h3>
        {link.why && (
          <p className="trace-why">
            <strong>Why:</strong> {link.why}
          </p>
        )}
        {facts.length > 0 && (
          <dl className="trace-facts">
            {facts.map(([key, value]) => (
              <div key={key} className="trace-fact">
                <dt>{key}</dt>
                <dd>{showFact(value)}</dd>
              </div>
            ))}
          </dl>
        )}
      </article>
      {below.length > 0 && (
        <ul>
          {below.map((b, i) => (
            <LinkItem key={`${b.link.kind}:${b.link.label}:${i}`} link={b.link} rest={b.rest} />
          ))}
        </ul>
      )}
    </li>
  );
}

function brokenKinds(links: readonly TraceLink[]): string[] {
  return links.flatMap((l) => [
    ...(l.status === 'broken' ? [KIND_TEXT[l.kind]] : []),
    ...brokenKinds(l.children ?? []),
  ]);
}

/** A trace's top-level links are separate chains when tracing a stack (one per instance). */
function Chain({ trace }: { trace: Trace }) {
  const broken = brokenKinds(trace.links);
  const roots =
    trace.links[0]?.kind === 'instance' && trace.links.every((l) => l.kind === 'instance')
      ? trace.links.map((l) => ({ link: l, rest: [] as TraceLink[] }))
      : trace.links.length
        ? [{ link: trace.links[0]!, rest: trace.links.slice(1) }]
        : [];
  return (
    <section aria-labelledby="chain-heading">
      <h2 id="chain-heading">Chain of {trace.subject}</h2>
      <p className={`trace-verdict ${trace.whole ? 'whole' : 'broken'}`} role="status">
        {trace.whole ? 'The chain is whole.' : `The chain is broken: ${broken.join(', ')}.`}
      </p>
      <ul className="trace-tree" aria-label={`Trace of ${trace.subject}`}>
        {roots.map((r, i) => (
          <LinkItem key={`${r.link.label}:${i}`} link={r.link} rest={r.rest} />
        ))}
      </ul>
    </section>
  );
}

function Result({ subject, verify }: { subject: string; verify: boolean }) {
  const { api } = useSignedIn();
  const trace = useLoad((signal) => api.trace(subject, verify, signal), [subject, verify]);
  return (
    <Loaded state={trace} label="Walking the chain…">
      {(t) => <Chain trace={t} />}
    </Loaded>
  );
}

/**
 * `stups trace` in the console: the same walk, run by the platform (fullstop's `/api/trace`)
 * with the signed-in person's token, from an instance id, `stack version`, image, digest or
 * application id.
 */
export function TracePage() {
  const { location, navigate } = useRouter();
  const subject = location.query.get('subject')?.trim() ?? '';
  const verify = location.query.get('verify') !== 'false';
  const [text, setText] = useState(subject);
  const [check, setCheck] = useState(verify);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const s = text.trim();
    navigate(s ? `/trace?${new URLSearchParams({ subject: s, verify: String(check) })}` : '/trace');
  };
  return (
    <section>
      <h1>Trace</h1>
      <form role="search" className="trace-form" onSubmit={submit}>
        <label htmlFor="trace-input">Instance, stack, image, digest or application</label>
        <input
          id="trace-input"
          type="search"
          value={text}
          placeholder="i-0abc…, hello-world 7, team/app:1.0, sha256:…, app id"
          onChange={(e) => setText(e.target.value)}
          autoFocus
        />
        <label>
          <input type="checkbox" checked={check} onChange={(e) => setCheck(e.target.checked)} /> Verify
          provenance signatures
        </label>
        <button type="submit" className="button">
          Trace
        </button>
      </form>
      {subject ? (
        <Result subject={subject} verify={verify} />
      ) : (
        <Empty title="Trace a running thing back to its commit, ticket and people.">
          Paste an instance id, a stack name and version, an image reference or digest, or an application id.
        </Empty>
      )}
    </section>
  );
}
