import { ok, type TraceLink } from '../chain.js';
import type { TraceSources } from '../sources.js';

/**
 * Open fullstop violations of the application (of the one instance when tracing an instance).
 * They are shown, not counted as a break: the chain is about where a thing came from, a
 * violation about what it did.
 */
export async function violationsLink(
  sources: TraceSources,
  applicationId: string,
  instanceId: string | undefined,
): Promise<TraceLink> {
  const all = await sources.openViolations(applicationId);
  const open = instanceId === undefined ? all : all.filter((v) => v.instanceId === instanceId);
  const facts: Record<string, string | number> = { open: open.length };
  for (const v of open.slice(0, 20))
    facts[`#${v.id}`] = `${v.type}${v.instanceId ? ` on ${v.instanceId}` : ''}`;
  return ok('violations', `${open.length} open`, facts);
}
