import { broken, type Trace, traceOf, type TraceLink } from './chain.js';
import { amiLink, type TaupagePolicy } from './links/ami.js';
import { deploymentsLink } from './links/deployments.js';
import { imageLink, type ImageRef, parseImageRef } from './links/image.js';
import { instanceLink, taupageLink } from './links/instance.js';
import { kioAppLink } from './links/kio-app.js';
import { provenanceLink } from './links/provenance.js';
import { scmSourceLink } from './links/scm-source.js';
import { sshAccessLink } from './links/ssh-access.js';
import { ticketLink } from './links/ticket.js';
import { violationsLink } from './links/violations.js';
import type { InstanceFacts, TraceSources } from './sources.js';

export interface WalkOptions {
  /** Verify provenance signatures and that the provenance commit is scm-source's revision. */
  verify: boolean;
  ticketPattern: RegExp;
  /** What a current Taupage AMI is (fullstop's rule settings). */
  taupage: TaupagePolicy;
  /** The time AMI ages are measured at. */
  now: Date;
}

interface ImageContext {
  instance?: InstanceFacts | undefined;
  applicationId?: string | undefined;
}

export type TraceInput =
  | { kind: 'instance'; instanceId: string }
  | { kind: 'image'; ref: ImageRef }
  | { kind: 'digest'; digest: string }
  | { kind: 'application'; applicationId: string }
  | { kind: 'stack'; name: string; version: string };

/** What the argument names; undefined when it is none of the kinds `stups trace` takes. */
export function parseTraceInput(text: string): TraceInput | undefined {
  const value = text.trim();
  const stack = /^([a-z][a-z0-9-]*[a-z0-9])\s+([a-zA-Z0-9]+)$/.exec(value);
  if (stack) return { kind: 'stack', name: stack[1]!, version: stack[2]! };
  if (/^i-[0-9a-f]{8,17}$/.test(value)) return { kind: 'instance', instanceId: value };
  if (/^(?:sha256:[0-9a-f]{12,64}|sha512:[0-9a-f]{12,128})$/.test(value))
    return { kind: 'digest', digest: value };
  const ref = parseImageRef(value);
  if (ref) return { kind: 'image', ref };
  if (/^[a-z][a-z0-9-]*[a-z0-9]$/.test(value)) return { kind: 'application', applicationId: value };
  return undefined;
}

/** Walks the chain from what was given, in both directions where it has two. */
export async function walk(
  sources: TraceSources,
  input: TraceInput,
  subject: string,
  options: WalkOptions,
): Promise<Trace> {
  switch (input.kind) {
    case 'instance':
      return traceOf(subject, await fromInstance(sources, input.instanceId, options));
    case 'image':
      return traceOf(subject, await fromImage(sources, input.ref, options, undefined));
    case 'digest':
      return traceOf(subject, await fromDigest(sources, input.digest, options));
    case 'application':
      return traceOf(subject, await fromApplication(sources, input.applicationId, options));
    case 'stack':
      return traceOf(subject, await fromStack(sources, input.name, input.version, options));
  }
}

async function fromInstance(
  sources: TraceSources,
  instanceId: string,
  options: WalkOptions,
): Promise<TraceLink[]> {
  const { link, instance } = await instanceLink(sources, instanceId);
  if (!instance) return [link];
  const taupage = taupageLink(instance);
  const ami = await amiLink(sources, instance, options.taupage, options.now);
  const links = [link, ami, taupage.link];
  const ref = taupage.config?.source === undefined ? undefined : parseImageRef(taupage.config.source);
  if (taupage.config?.source !== undefined && !ref) {
    taupage.link = broken(
      'taupage-config',
      taupage.link.label,
      `source "${taupage.config.source}" is not an image reference`,
      taupage.link.facts,
    );
    links[2] = taupage.link;
  }
  if (
    ref &&
    taupage.config?.applicationVersion !== undefined &&
    taupage.config.applicationVersion !== ref.tag
  ) {
    links[2] = broken(
      'taupage-config',
      taupage.link.label,
      `version mismatch: application_version ${taupage.config.applicationVersion}, image tag ${ref.tag}`,
      taupage.link.facts,
    );
  }
  if (!ref) return links;
  return [
    ...links,
    ...(await fromImage(sources, ref, options, { instance, applicationId: taupage.config?.applicationId })),
  ];
}

async function fromImage(
  sources: TraceSources,
  ref: ImageRef,
  options: WalkOptions,
  context: ImageContext | undefined,
): Promise<TraceLink[]> {
  const { link, image } = await imageLink(sources, ref);
  const links = [link];
  if (image) {
    const scm = await scmSourceLink(sources, image);
    const provenance = await provenanceLink(sources, image, scm.scm, options.verify);
    links.push(
      scm.link,
      provenance.link,
      await ticketLink(sources, scm.scm, provenance.ticket, options.ticketPattern),
    );
  }
  // STUPS names an application's images after it: the artifact is the application id.
  const applicationId = context?.applicationId ?? ref.artifact;
  const app = await kioAppLink(sources, applicationId);
  links.push(app.link, await deploymentsLink(sources, applicationId, ref.tag));
  const instance = context?.instance;
  if (instance) links.push(await sshAccessLink(sources, instance));
  // An instance's violations are its own whether or not Kio knows the app it claims to run.
  if (instance)
    links.push(await violationsLink(sources, { instanceId: instance.id, account: instance.account }));
  else if (app.app) links.push(await violationsLink(sources, { applicationId }));
  return links;
}

async function fromDigest(sources: TraceSources, digest: string, options: WalkOptions): Promise<TraceLink[]> {
  const tags = await sources.tagsOfDigest(digest);
  const first = tags[0];
  if (!first)
    return [broken('image', digest, 'image not in Pier One: no image id or manifest digest starts with it')];
  return fromImage(sources, { registry: undefined, ...first }, options, undefined);
}

/** From an application down: the app, then one chain per image Pier One holds of it. */
async function fromApplication(
  sources: TraceSources,
  applicationId: string,
  options: WalkOptions,
): Promise<TraceLink[]> {
  const app = await kioAppLink(sources, applicationId);
  if (!app.app) return [app.link];
  const team = app.app.team;
  const tags = await sources.tags(team, applicationId);
  const children: TraceLink[] = [];
  for (const tag of tags) {
    const chain = await fromImage(
      sources,
      { registry: undefined, team, artifact: applicationId, tag },
      options,
      {
        applicationId,
      },
    );
    // The app and its violations are the parent; the image chain is everything before them.
    const [head, ...rest] = chain.filter((l) => l.kind !== 'kio-app' && l.kind !== 'violations');
    if (head) children.push(nest(head, rest));
  }
  app.link.children = children;
  return [app.link, await violationsLink(sources, { applicationId })];
}

/** From a Senza stack down: one chain per instance it runs (none is a break). */
async function fromStack(
  sources: TraceSources,
  name: string,
  version: string,
  options: WalkOptions,
): Promise<TraceLink[]> {
  const ids = await sources.stackInstances(name, version);
  if (ids.length === 0)
    return [broken('instance', `${name}-${version}`, `no instances of stack ${name} ${version}`)];
  const chains: TraceLink[] = [];
  for (const id of ids) {
    const [head, ...rest] = await fromInstance(sources, id, options);
    if (head) chains.push(nest(head, rest));
  }
  return chains;
}

/** Turns a path of links into nested children, so the tree shows one branch per image. */
function nest(head: TraceLink, rest: TraceLink[]): TraceLink {
  const [next, ...after] = rest;
  return next ? { ...head, children: [nest(next, after)] } : head;
}
