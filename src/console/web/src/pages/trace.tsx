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
 * One node of the graph: the link's box, and below it (indented, on their own edge) the links
 * hanging off it, such as an application's images. The edge into a node carries its colour.
 */
function Node({ link }: { link: TraceLink }) {
  const facts = Object.entries(link.facts);
  const children = link.children ?? [];
  return (
    <li className={`trace-node ${link.status}`}>
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
      {children.length > 0 && <Path links={children} label={`From ${link.label}`} branch />}
    </li>
  );
}

/** A path through the chain: its links top to bottom, each joined to the one before by an edge. */
function Path({
  links,
  label,
  branch = false,
}: {
  links: readonly TraceLink[];
  label: string;
  branch?: boolean;
}) {
  return (
    <ol className={branch ? 'trace-path trace-branch' : 'trace-path'} aria-label={label}>
      {links.map((link, i) => (
        <Node key={`${link.kind}:${link.label}:${i}`} link={link} />
      ))}
    </ol>
  );
}

function brokenKinds(links: readonly TraceLink[]): string[] {
  return links.flatMap((l) => [
    ...(l.status === 'broken' ? [KIND_TEXT[l.kind]] : []),
    ...brokenKinds(l.children ?? []),
  ]);
}

/**
 * The chain as a graph: one box per link, top to bottom, edges between them coloured as the link
 * they lead into (green holds, red broken, amber a note or not checked), the status in words in
 * every box. A stack's trace has one chain per instance, drawn side by side as separate paths.
 */
function Chain({ trace }: { trace: Trace }) {
  const broken = brokenKinds(trace.links);
  const perInstance = trace.links.length > 1 && trace.links.every((l) => l.kind === 'instance');
  return (
    <section aria-labelledby="chain-heading">
      <h2 id="chain-heading">Chain of {trace.subject}</h2>
      <p className={`trace-verdict ${trace.whole ? 'whole' : 'broken'}`} role="status">
        {trace.whole ? 'The chain is whole.' : `The chain is broken: ${broken.join(', ')}.`}
      </p>
      {perInstance ? (
        <ul className="trace-graph trace-chains" aria-label={`Trace of ${trace.subject}`}>
          {trace.links.map((l, i) => (
            <li key={`${l.label}:${i}`}>
              <Path links={[l]} label={`Chain of ${l.label}`} />
            </li>
          ))}
        </ul>
      ) : (
        <div className="trace-graph">
          <Path links={trace.links} label={`Trace of ${trace.subject}`} />
        </div>
      )}
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
