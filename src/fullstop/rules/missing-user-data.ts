import { type EventRule, type Finding, violationType } from './rule.js';
import { runInstances } from './run-instances.js';
import { isTaupage } from './taupage.js';

/**
 * A Taupage instance launched without user data: Taupage then runs nothing traceable. STUPS
 * asked EC2 for the instance attribute; the CloudTrail record already says whether there was any.
 */
export const missingUserData: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'MISSING_USER_DATA',
    title: 'EC2 without user data',
    help_text:
      'A Taupage instance was started without user data, so nobody can tell which application and artifact it runs. Deploy with Senza, which writes the Taupage user data.',
    violation_severity: 0,
    priority: 3,
    meta_info_keys: ['ami_id'],
  }),
  async check(record, account, ctx) {
    const run = runInstances(record);
    if (!run || run.hasUserData) return [];
    const findings: Finding[] = [];
    for (const instance of run.instances) {
      if (!instance.imageId) continue;
      const image = await ctx.images.describe(account, record.awsRegion, instance.imageId);
      if (!image || !isTaupage(image, ctx.settings)) continue; // WRONG_AMI covers those
      findings.push({
        type: 'MISSING_USER_DATA',
        instanceId: instance.instanceId,
        metaInfo: { ami_id: image.imageId },
      });
    }
    return findings;
  },
};
