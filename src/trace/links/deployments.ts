import { ok, type TraceLink, unknown, warning } from '../chain.js';
import type { TraceSources } from '../sources.js';
import { parseImageRef } from './image.js';

/**
 * Where this version of the application runs: the Senza stacks whose Taupage config runs the
 * image tag (or names it as application_version), each with its share of the weighted DNS
 * traffic. A version no stack runs, or that gets no traffic, is named (not a break: tracing an
 * old image is fine), so a reader sees at once that nobody is served by it.
 */
export async function deploymentsLink(
  sources: TraceSources,
  applicationId: string,
  version: string,
): Promise<TraceLink> {
  const label = `${applicationId} ${version}`;
  let deployments;
  try {
    deployments = await sources.deployments(applicationId);
  } catch (error) {
    // Where it runs is a fact beside the chain, not a link of it: an AWS that cannot be read
    // (no credentials on a laptop's `stups up`, a refused role) leaves it unchecked, said why,
    // and the rest of the trace still stands.
    const reason = error instanceof Error ? error.message : String(error);
    return unknown('deployments', label, `not checked: cannot read CloudFormation: ${reason}`);
  }
  const stacks = deployments.filter(
    (d) => (d.source && parseImageRef(d.source)?.tag === version) || d.applicationVersion === version,
  );
  if (stacks.length === 0)
    return warning('deployments', label, `not deployed: no Senza stack runs ${applicationId} ${version}`, {
      stacks: 0,
    });
  const facts: Record<string, string | number> = { stacks: stacks.length };
  for (const d of stacks)
    facts[d.stack] =
      `${d.trafficPercent === null ? 'no weighted DNS' : `${d.trafficPercent}% traffic`} (${d.status})`;
  const weighted = stacks.filter((d) => d.trafficPercent !== null);
  if (weighted.length > 0 && weighted.every((d) => d.trafficPercent === 0))
    return warning(
      'deployments',
      label,
      `no traffic: ${weighted.map((d) => d.stack).join(', ')} at 0% of the weighted DNS`,
      facts,
    );
  return ok('deployments', label, facts);
}
