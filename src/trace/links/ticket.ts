import { broken, ok, unknown, type TraceLink } from '../chain.js';
import type { ScmSourceFacts, TraceSources } from '../sources.js';

/** The default ticket pattern: a Jira-style key such as `SHOP-123`. */
export const DEFAULT_TICKET_PATTERN = '[A-Z][A-Z0-9]+-\\d+';

/**
 * The ticket the change was made for: matched in the commit message when the repository can be
 * read, else as the provenance records it. A readable commit without a ticket is a break.
 */
export async function ticketLink(
  sources: TraceSources,
  scm: ScmSourceFacts | undefined,
  provenanceTicket: string | undefined,
  pattern: RegExp,
): Promise<TraceLink> {
  if (!scm) return unknown('ticket', '-', 'no commit to look for a ticket in');
  const message = await sources.commitMessage(scm.url, scm.revision);
  if (message !== undefined) {
    const found = pattern.exec(message)?.[0];
    const subject = message.split('\n')[0] ?? '';
    if (found) return ok('ticket', found, { source: 'commit message', commit_subject: subject });
    return broken('ticket', '-', `ticket not found: the commit message does not match ${pattern.source}`, {
      commit_subject: subject,
    });
  }
  if (provenanceTicket) return ok('ticket', provenanceTicket, { source: 'provenance' });
  return unknown('ticket', '-', `repository ${scm.url} not reachable and the provenance records no ticket`);
}
