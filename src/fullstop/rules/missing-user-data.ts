import { type EventRule, type Finding, violationType } from './rule.js';
import { runInstances } from './run-instances.js';
import { startedInstances } from './started-instances.js';
import { isTaupage } from './taupage.js';

/**
 * A Taupage instance launched (or started again) without user data: Taupage then runs nothing
 * traceable. STUPS asked EC2 for the instance attribute; a RunInstances record already says
 * whether there was any, while for StartInstances (user data can change while an instance is
 * stopped) EC2 is asked, as STUPS did.
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
    if (run?.hasUserData) return [];
    const instances = run?.instances ?? (await startedInstances(record, account, ctx));
    const findings: Finding[] = [];
    for (const instance of instances) {
      if (!instance.imageId) continue;
      const image = await ctx.images.describe(account, record.awsRegion, instance.imageId);
      if (!image || !isTaupage(image, ctx.settings)) continue; // WRONG_AMI covers those
      if (!run && (await ctx.instances?.hasUserData(account, record.awsRegion, instance.instanceId)))
        continue;
      findings.push({
        type: 'MISSING_USER_DATA',
        instanceId: instance.instanceId,
        metaInfo: { ami_id: image.imageId },
      });
    }
    return findings;
  },
};
