import { type EventRule, violationType } from './rule.js';
import { runInstances } from './run-instances.js';

/** An instance launched outside the regions the platform's accounts are set up for. */
export const wrongRegion: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'WRONG_REGION',
    title: 'EC2 instance in illegal region',
    help_text:
      'An EC2 instance was started in a region that is not allowed. Terminate it and deploy in one of the allowed regions (meta_info.allowed_regions).',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: ['allowed_regions'],
  }),
  async check(record, _account, ctx) {
    const run = runInstances(record);
    if (!run || ctx.settings.allowedRegions.includes(record.awsRegion)) return [];
    return run.instances.map((i) => ({
      type: 'WRONG_REGION',
      instanceId: i.instanceId,
      metaInfo: { allowed_regions: ctx.settings.allowedRegions },
    }));
  },
};
