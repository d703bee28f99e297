/**
 * The traceability chain `stups trace` walks: instance → AMI → Taupage config → image →
 * scm-source → provenance → ticket → Kio application → deployments → SSH access → violations
 * (with the risk acceptances covering them). Each link says whether it holds, and when it does
 * not, why: a break is named, never silently skipped.
 */
export const LINK_KINDS = [
  'instance',
  'ami',
  'taupage-config',
  'image',
  'scm-source',
  'provenance',
  'ticket',
  'kio-app',
  'deployments',
  'ssh-access',
  'violations',
] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/**
 * ok: the link holds; broken: it does not (`why` says how); unknown: it could not be checked;
 * warning: it holds but something is worth naming (a version nobody deploys) — not a break.
 */
export type LinkStatus = 'ok' | 'broken' | 'unknown' | 'warning';

export type Fact = string | number | boolean | null;

export interface TraceLink {
  kind: LinkKind;
  status: LinkStatus;
  /** What the link is, in a few words (`hello-world:1.0`, `i-0abc…`). */
  label: string;
  facts: Record<string, Fact>;
  /** Why the link is broken or unknown; absent when it holds. */
  why?: string;
  /** Links hanging off this one (from an application: one chain per image). */
  children?: TraceLink[];
}

export interface Trace {
  /** What was traced, as given. */
  subject: string;
  /** Whether no link anywhere is broken. */
  whole: boolean;
  links: TraceLink[];
}

export const ok = (kind: LinkKind, label: string, facts: Record<string, Fact> = {}): TraceLink => ({
  kind,
  status: 'ok',
  label,
  facts,
});

export const broken = (
  kind: LinkKind,
  label: string,
  why: string,
  facts: Record<string, Fact> = {},
): TraceLink => ({ kind, status: 'broken', label, facts, why });

export const unknown = (
  kind: LinkKind,
  label: string,
  why: string,
  facts: Record<string, Fact> = {},
): TraceLink => ({ kind, status: 'unknown', label, facts, why });

export const warning = (
  kind: LinkKind,
  label: string,
  why: string,
  facts: Record<string, Fact> = {},
): TraceLink => ({ kind, status: 'warning', label, facts, why });

/** Every link, depth first. */
export function allLinks(links: readonly TraceLink[]): TraceLink[] {
  return links.flatMap((l) => [l, ...allLinks(l.children ?? [])]);
}

export function traceOf(subject: string, links: TraceLink[]): Trace {
  return { subject, whole: allLinks(links).every((l) => l.status !== 'broken'), links };
}
