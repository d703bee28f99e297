import { ok, type TraceLink } from '../chain.js';
import type { RiskAcceptanceFacts, TraceSources, ViolationScope } from '../sources.js';

/**
 * Open fullstop violations of the application (of the one instance when tracing an instance:
 * every rule it breaks, those of CloudTrail rules that name no application too),
 * and beside them those a risk acceptance covers, with the acceptance (reason, team, until when).
 * They are shown, not counted as a break: the chain is about where a thing came from, a
 * violation about what it did.
 */
export async function violationsLink(sources: TraceSources, scope: ViolationScope): Promise<TraceLink> {
  const open = await sources.openViolations(scope);
  const accepted = await sources.acceptedViolations(scope);
  const facts: Record<string, string | number> = { open: open.length, accepted: accepted.length };
  for (const v of open.slice(0, 20))
    facts[`#${v.id}`] = `${v.type}${v.instanceId ? ` on ${v.instanceId}` : ''}`;
  const acceptances = new Map<number, RiskAcceptanceFacts | undefined>();
  for (const v of accepted.slice(0, 20)) {
    const id = v.acceptanceId ?? undefined;
    if (id !== undefined && !acceptances.has(id)) acceptances.set(id, await sources.riskAcceptance(id));
    const acceptance = id === undefined ? undefined : acceptances.get(id);
    facts[`#${v.id}`] =
      `${v.type}${v.instanceId ? ` on ${v.instanceId}` : ''} — accepted by risk acceptance #${id ?? '?'}` +
      (acceptance
        ? ` (team ${acceptance.team}, by ${acceptance.createdBy}, until ${acceptance.expires}: ${acceptance.reason})`
        : '');
  }
  return ok('violations', `${open.length} open, ${accepted.length} accepted`, facts);
}
