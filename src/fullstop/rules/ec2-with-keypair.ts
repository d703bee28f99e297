import { type EventRule, violationType } from './rule.js';
import { instancesOf } from './started-instances.js';

/** An instance launched (or started again) with an SSH key pair: access must go through the bastion and even. */
export const ec2WithKeypair: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'EC2_WITH_KEYPAIR',
    title: 'EC2 SSH Keypair used',
    help_text:
      'An EC2 instance was started with an SSH key pair. SSH access goes through the bastion host with an even grant; launch instances without a key pair.',
    violation_severity: 0,
    priority: 4,
    meta_info_keys: ['key_name', 'ami_id'],
  }),
  async check(record, account, ctx) {
    const instances = await instancesOf(record, account, ctx);
    if (!instances) return [];
    return instances.flatMap((i) =>
      i.keyName
        ? [
            {
              type: 'EC2_WITH_KEYPAIR',
              instanceId: i.instanceId,
              metaInfo: { key_name: i.keyName, ami_id: i.imageId },
            },
          ]
        : [],
    );
  },
};
