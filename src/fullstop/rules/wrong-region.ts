import { type EventRule, violationType } from './rule.js';
import { runInstances } from './run-instances.js';
import { startInstances } from './started-instances.js';

/** An instance launched (or started again) outside the regions the platform's accounts are set up for. */
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
    const ids = runInstances(record)?.instances.map((i) => i.instanceId) ?? startInstances(record);
    if (!ids || ctx.settings.allowedRegions.includes(record.awsRegion)) return [];
    return ids.map((instanceId) => ({
      type: 'WRONG_REGION',
      instanceId,
      metaInfo: { allowed_regions: ctx.settings.allowedRegions },
    }));
  },
};
