import { broken, ok, type TraceLink } from '../chain.js';
import type { InstanceFacts, TraceSources } from '../sources.js';

/** The names even grants and sshd logs use for an instance: id, private address, host names. */
export function instanceHostNames(instance: InstanceFacts): string[] {
  const names = new Set([instance.id]);
  if (instance.privateIp) names.add(instance.privateIp);
  if (instance.privateDnsName) {
    names.add(instance.privateDnsName.toLowerCase());
    names.add(instance.privateDnsName.toLowerCase().split('.')[0]!);
  }
  return [...names];
}

/** Statuses of an access request that let the user in (for a while). */
const GRANTED = new Set(['GRANTED', 'EXPIRED', 'REVOKED']);

/**
 * Who got SSH access to the instance through even, with the reasons they gave; an SSH login
 * fullstop saw without a grant (an open SSH_LOGIN_WITHOUT_GRANT) is a break: someone reached the
 * host around the access granting.
 */
export async function sshAccessLink(sources: TraceSources, instance: InstanceFacts): Promise<TraceLink> {
  const grants = (await sources.accessGrants(instanceHostNames(instance))).filter((g) =>
    GRANTED.has(g.status),
  );
  const logins = await sources.loginsWithoutGrant(instance.account, instance.id);
  const people = [...new Set(grants.map((g) => g.username))].sort();
  const facts: Record<string, string | number> = { grants: grants.length };
  for (const g of grants.slice(0, 20))
    facts[`grant #${g.id}`] =
      `${g.username} via ${g.hostname} (${g.status.toLowerCase()}, ${g.created}): ${g.reason}`;
  for (const l of logins.slice(0, 20))
    facts[`login #${l.violationId}`] = `${l.username} at ${l.at} from ${l.from} without a grant`;
  const label = people.length ? people.join(', ') : 'nobody';
  if (logins.length > 0) {
    const who = [...new Set(logins.map((l) => l.username))].sort().join(', ');
    return broken('ssh-access', label, `login without a grant: ${who} (${logins.length} login(s))`, facts);
  }
  return ok('ssh-access', label, facts);
}
