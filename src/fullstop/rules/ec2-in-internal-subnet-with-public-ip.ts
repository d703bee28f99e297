import { z } from 'zod';
import { type EventRule, type Finding, violationType } from './rule.js';
import { startedInstances } from './started-instances.js';

const NetworkInterfaces = z
  .looseObject({
    items: z.array(
      z.looseObject({
        subnetId: z.string().optional(),
        associatePublicIpAddress: z.boolean().optional(),
        association: z.looseObject({ publicIp: z.string().optional() }).optional(),
      }),
    ),
  })
  .optional();
const Request = z.looseObject({ subnetId: z.string().optional(), networkInterfaceSet: NetworkInterfaces });
const Response = z.looseObject({
  instancesSet: z.looseObject({
    items: z.array(
      z.looseObject({
        instanceId: z.string(),
        subnetId: z.string().optional(),
        ipAddress: z.string().optional(),
        networkInterfaceSet: NetworkInterfaces,
      }),
    ),
  }),
});

/**
 * An instance started in an internal subnet (Name tag `rules.internalSubnetNamePrefix`…, as the
 * account set-up names them) with a public IP: internal subnets are for what must not be
 * reachable from the internet. The IP is public when the launch asked for one, when the response
 * shows one, or when the request did not say and the subnet maps public IPs on launch. An
 * instance started again (StartInstances) is judged by what EC2 says of it now: its subnet and
 * whether it has a public IP.
 */
export const ec2InInternalSubnetWithPublicIp: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP',
    title: 'Public IP in internal subnet',
    help_text:
      'An EC2 instance was started in an internal subnet with a public IP address. Internal subnets must not be reachable from the internet: launch without a public IP, or in a DMZ subnet behind a load balancer.',
    violation_severity: 3,
    priority: 1,
    meta_info_keys: ['subnet_id', 'subnet_name', 'public_ip'],
  }),
  async check(record, account, ctx) {
    if (record.eventSource !== 'ec2.amazonaws.com' || record.errorCode) return [];
    if (record.eventName === 'StartInstances') {
      const findings: Finding[] = [];
      for (const instance of await startedInstances(record, account, ctx)) {
        if (!instance.subnetId || !instance.publicIp) continue;
        if (!ctx.subnets) throw new Error('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP needs the subnet look-up');
        const subnet = await ctx.subnets.describe(account, record.awsRegion, instance.subnetId);
        if (!subnet?.name?.startsWith(ctx.settings.internalSubnetNamePrefix)) continue;
        findings.push({
          type: 'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP',
          instanceId: instance.instanceId,
          metaInfo: { subnet_id: instance.subnetId, subnet_name: subnet.name, public_ip: instance.publicIp },
        });
      }
      return findings;
    }
    if (record.eventName !== 'RunInstances') return [];
    const response = Response.safeParse(record.responseElements);
    if (!response.success) return [];
    const request = Request.safeParse(record.requestParameters);
    const requestedNic = request.success ? request.data.networkInterfaceSet?.items[0] : undefined;
    const requestedSubnet = (request.success ? request.data.subnetId : undefined) ?? requestedNic?.subnetId;
    const findings: Finding[] = [];
    for (const instance of response.data.instancesSet.items) {
      const nic = instance.networkInterfaceSet?.items[0];
      const subnetId = instance.subnetId ?? nic?.subnetId ?? requestedSubnet;
      // No subnet named: the default VPC's default subnet, which platform accounts do not have.
      if (!subnetId) continue;
      if (!ctx.subnets) throw new Error('EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP needs the subnet look-up');
      const subnet = await ctx.subnets.describe(account, record.awsRegion, subnetId);
      if (!subnet?.name?.startsWith(ctx.settings.internalSubnetNamePrefix)) continue;
      const shownIp = instance.ipAddress ?? nic?.association?.publicIp ?? null;
      const asked = requestedNic?.associatePublicIpAddress;
      const isPublic =
        shownIp !== null || asked === true || (asked === undefined && subnet.mapPublicIpOnLaunch);
      if (!isPublic) continue;
      findings.push({
        type: 'EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP',
        instanceId: instance.instanceId,
        metaInfo: { subnet_id: subnetId, subnet_name: subnet.name, public_ip: shownIp },
      });
    }
    return findings;
  },
};
