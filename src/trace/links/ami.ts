import { broken, ok, unknown, type TraceLink } from '../chain.js';
import type { InstanceFacts, TraceSources } from '../sources.js';

/** What makes an AMI a current Taupage: fullstop's rule settings (WRONG_AMI, OUTDATED_TAUPAGE). */
export interface TaupagePolicy {
  namePrefix: string;
  /** Accounts owning Taupage AMIs; empty: any owner. */
  owners: string[];
  maxAgeDays: number;
  requireLatest: boolean;
}

const DAY_MS = 86_400_000;
/** Taupage names end in the build time (`Taupage-AMI-20250301-120000`); the rest names the channel. */
const BUILD_SUFFIX = /-\d{8}-\d{6}$/;

/**
 * The instance's AMI, judged as fullstop judges it: "not a Taupage AMI" (name prefix or owner
 * wrong, as WRONG_AMI) and "outdated Taupage" (older than the maximum age, or a newer image of
 * its channel exists, as OUTDATED_TAUPAGE) are breaks.
 */
export async function amiLink(
  sources: TraceSources,
  instance: InstanceFacts,
  policy: TaupagePolicy,
  now: Date,
): Promise<TraceLink> {
  if (!instance.ami) return unknown('ami', '-', 'EC2 did not tell the instance’s AMI');
  const ami = await sources.ami(instance.ami);
  if (!ami)
    return unknown('ami', instance.ami, 'the AMI is not visible to the account (deregistered or not shared)');
  const facts = { name: ami.name, owner: ami.ownerId, created: ami.created ?? null };
  const ownerAllowed = policy.owners.length === 0 || policy.owners.includes(ami.ownerId);
  if (!ownerAllowed || !ami.name.startsWith(policy.namePrefix)) {
    const whyNot = !ownerAllowed
      ? `owner ${ami.ownerId} is none of the Taupage owners (${policy.owners.join(', ')})`
      : `its name "${ami.name}" does not start with "${policy.namePrefix}"`;
    return broken('ami', ami.id, `not a Taupage AMI: ${whyNot}`, facts);
  }
  const reasons: string[] = [];
  const created = ami.created ? Date.parse(ami.created) : Number.NaN;
  if (!Number.isNaN(created) && now.getTime() - created > policy.maxAgeDays * DAY_MS)
    reasons.push(`older than ${policy.maxAgeDays} days`);
  let latest: string | null = null;
  if (policy.requireLatest) {
    const channel = ami.name.replace(BUILD_SUFFIX, '');
    const newest = await sources.newestAmiOfChannel(
      channel,
      policy.owners.length ? policy.owners : [ami.ownerId],
    );
    if (newest && newest.name > ami.name) {
      latest = `${newest.id} (${newest.name})`;
      reasons.push(`a newer Taupage AMI exists: ${latest}`);
    }
  }
  if (reasons.length) return broken('ami', ami.id, `outdated Taupage: ${reasons.join('; ')}`, facts);
  return ok('ami', ami.id, { ...facts, taupage: 'current' });
}

/** The newest of `images` in `channel` (names differ only in the build time there). */
export function newestOfChannel<T extends { name: string }>(images: T[], channel: string): T | undefined {
  return images
    .filter((i) => i.name.replace(BUILD_SUFFIX, '') === channel)
    .reduce<T | undefined>((newest, i) => (!newest || i.name > newest.name ? i : newest), undefined);
}
