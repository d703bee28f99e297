import { parse } from 'yaml';
import { broken, ok, type TraceLink } from '../chain.js';
import type { InstanceFacts, TraceSources } from '../sources.js';

export interface TaupageConfig {
  applicationId: string | undefined;
  applicationVersion: string | undefined;
  source: string | undefined;
}

/** The EC2 instance: broken when EC2 does not know it. */
export async function instanceLink(
  sources: TraceSources,
  instanceId: string,
): Promise<{ link: TraceLink; instance: InstanceFacts | undefined }> {
  const instance = await sources.instance(instanceId);
  if (!instance) return { link: broken('instance', instanceId, 'instance unknown to EC2'), instance };
  const team = instance.account === undefined ? undefined : await sources.teamOfAccount(instance.account);
  return {
    link: ok('instance', instanceId, {
      account: instance.account ?? null,
      team: team ?? null,
      region: instance.region ?? null,
      state: instance.state ?? null,
      launched: instance.launchTime ?? null,
      ami: instance.ami ?? null,
    }),
    instance,
  };
}

/** The Taupage config in the user data: broken when there is none or it names no app or image. */
export function taupageLink(instance: InstanceFacts): { link: TraceLink; config: TaupageConfig | undefined } {
  let doc: unknown;
  try {
    doc = instance.userData === undefined ? undefined : parse(instance.userData);
  } catch {
    doc = undefined;
  }
  if (typeof doc !== 'object' || doc === null) {
    return {
      link: broken('taupage-config', instance.id, 'no Taupage config in the user data'),
      config: undefined,
    };
  }
  const d = doc as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const config = {
    applicationId: text(d.application_id),
    applicationVersion: text(d.application_version),
    source: text(d.source),
  };
  const facts = {
    application_id: config.applicationId ?? null,
    application_version: config.applicationVersion ?? null,
    source: config.source ?? null,
  };
  const label = `${config.applicationId ?? '?'} ${config.applicationVersion ?? '?'}`;
  const missing = (['application_id', 'source'] as const).filter((k) => facts[k] === null);
  if (missing.length) {
    return {
      link: broken('taupage-config', label, `the Taupage config names no ${missing.join(', ')}`, facts),
      config,
    };
  }
  return { link: ok('taupage-config', label, facts), config };
}
