import { type EventRule, type Finding, violationType } from './rule.js';
import { instancesOf } from './started-instances.js';
import { isTaupage } from './taupage.js';

/** An instance launched (or started again) from an image that is not a Taupage AMI of an allowed owner. */
export const wrongAmi: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'WRONG_AMI',
    title: 'EC2 instance using illegal AMI',
    help_text:
      'An EC2 instance was started from an AMI that is not a Taupage image of the allowed owners. Only Taupage AMIs are audited; redeploy with the current Taupage AMI.',
    violation_severity: 3,
    priority: 1,
    meta_info_keys: ['ami_owner_id', 'ami_id', 'ami_name'],
  }),
  async check(record, account, ctx) {
    const instances = await instancesOf(record, account, ctx);
    if (!instances) return [];
    const findings: Finding[] = [];
    for (const instance of instances) {
      if (!instance.imageId) continue;
      const image = await ctx.images.describe(account, record.awsRegion, instance.imageId);
      // An image the account cannot see any more is not Taupage either: Taupage images stay shared.
      if (image && isTaupage(image, ctx.settings)) continue;
      findings.push({
        type: 'WRONG_AMI',
        instanceId: instance.instanceId,
        metaInfo: {
          ami_id: instance.imageId,
          ami_owner_id: image?.ownerId ?? null,
          ami_name: image?.name ?? null,
        },
      });
    }
    return findings;
  },
};
