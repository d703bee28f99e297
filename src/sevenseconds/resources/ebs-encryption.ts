import {
  DisableEbsEncryptionByDefaultCommand,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import type { PlannedChange, ResourceModule } from './resource.js';

interface EbsOp {
  region: string;
  enable: boolean;
}

/**
 * `ebs_encrypt_by_default`: EBS default encryption per region, as STUPS switched it on. An absent
 * key leaves the region's setting alone (and is not even read), so accounts that do not manage
 * it pay no calls for it.
 */
export const ebsEncryption: ResourceModule<Map<string, boolean>, EbsOp> = {
  kind: 'ebs-encryption',
  async read(clients, account) {
    const state = new Map<string, boolean>();
    if (account.ebs_encrypt_by_default === undefined) return state;
    for (const region of account.regions) {
      const r = await clients.ec2(region).send(new GetEbsEncryptionByDefaultCommand({}));
      state.set(region, r.EbsEncryptionByDefault === true);
    }
    return state;
  },
  diff(account, current) {
    const wanted = account.ebs_encrypt_by_default;
    if (wanted === undefined) return [];
    const changes: PlannedChange<EbsOp>[] = [];
    for (const region of account.regions) {
      if (current.get(region) === wanted) continue;
      changes.push({
        account: account.name,
        resource: `ebs-encryption/${region}`,
        action: 'update',
        detail: `${wanted ? 'enable' : 'disable'} EBS encryption by default`,
        op: { region, enable: wanted },
      });
    }
    return changes;
  },
  async apply(clients, _account, { op }) {
    const ec2 = clients.ec2(op.region);
    if (op.enable) await ec2.send(new EnableEbsEncryptionByDefaultCommand({}));
    else await ec2.send(new DisableEbsEncryptionByDefaultCommand({}));
  },
};
