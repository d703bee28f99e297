import { z } from 'zod';
import { CliError } from '../../platform/cli/cli-error.js';
import type { SenzaAws } from '../aws/senza-aws.js';
import type { Component } from './component.js';
import {
  applyConfiguration,
  type ConfigurationProperties,
  configurationProperties,
} from './configuration.js';
import { booleanLike, checkProperties } from './properties.js';

/** Taupage release channels: the image mapping name and the AMI name patterns (private, public). */
export const TAUPAGE_CHANNELS = {
  latest: { mapping: 'LatestTaupageImage', private: 'Taupage-AMI-*', public: 'Taupage-Public-AMI-*' },
  staging: {
    mapping: 'LatestTaupageStagingImage',
    private: 'TaupageStaging-AMI-*',
    public: 'TaupageStaging-Public-AMI-*',
  },
  dev: { mapping: 'LatestTaupageDevImage', private: 'TaupageDev-AMI-*', public: 'TaupageDev-Public-AMI-*' },
} as const;
export type TaupageChannel = keyof typeof TAUPAGE_CHANNELS;

/** The newest Taupage AMI of a channel: private images first, public ones as fallback; newest by name. */
export async function findTaupageImage(aws: SenzaAws, channel: TaupageChannel): Promise<string | undefined> {
  const ec2 = await aws.ec2();
  const { private: privateName, public: publicName } = TAUPAGE_CHANNELS[channel];
  const query = (name: string, isPublic: boolean) =>
    ec2.describeImages({
      filters: [
        { Name: 'name', Values: [name] },
        { Name: 'is-public', Values: [String(isPublic)] },
        { Name: 'state', Values: ['available'] },
        { Name: 'root-device-type', Values: ['ebs'] },
      ],
    });
  let images = await query(privateName, false);
  if (!images.length) images = await query(publicName, true);
  return images.sort((a, b) => (a.Name ?? '').localeCompare(b.Name ?? '')).at(-1)?.ImageId;
}

const schema = z.strictObject({
  ...configurationProperties,
  /** Only subnets in these AZs (EBS volumes are bound to one). */
  AvailabilityZones: z.array(z.string()).optional(),
  VpcId: z.string().optional(),
  /** Default-VPC setups: every subnet is public. */
  PublicOnly: booleanLike.optional(),
});

/**
 * `Senza::StupsAutoConfiguration`: finds subnets by the STUPS naming convention (names with
 * "dmz" are for internet-facing load balancers, "internal" ones for servers and internal load
 * balancers) and the newest Taupage AMIs.
 */
export const stupsAutoConfiguration: Component = async (properties, context) => {
  const config = checkProperties(schema, properties, context.path, 'Senza::StupsAutoConfiguration');
  const { aws, region } = context;
  const images: Record<string, Record<string, string>> = { ...(config.Images ?? {}) };
  for (const channel of Object.keys(TAUPAGE_CHANNELS) as TaupageChannel[]) {
    const ami = await findTaupageImage(aws, channel);
    if (ami)
      images[TAUPAGE_CHANNELS[channel].mapping] = {
        ...images[TAUPAGE_CHANNELS[channel].mapping],
        [region]: ami,
      };
    else if (channel === 'latest') throw new CliError(`${context.path}: No Taupage AMI found in ${region}`);
  }

  const vpcId = config.VpcId ?? (await context.account.get('VpcID'));
  const publicOnly = String(config.PublicOnly ?? false) === 'true';
  const server: string[] = [];
  const lb: string[] = [];
  const lbInternal: string[] = [];
  const all: string[] = [];
  for (const subnet of await (await aws.ec2()).describeSubnets(vpcId)) {
    if (config.AvailabilityZones && !config.AvailabilityZones.includes(subnet.AvailabilityZone ?? ''))
      continue;
    const name = subnet.Tags?.find((t) => t.Key === 'Name')?.Value ?? '';
    const id = subnet.SubnetId!;
    all.push(id);
    if (publicOnly) {
      if (name.includes('dmz')) for (const list of [lb, lbInternal, server]) list.push(id);
    } else if (name.includes('dmz')) lb.push(id);
    else if (name.includes('internal')) for (const list of [lbInternal, server]) list.push(id);
    else if (!name.includes('nat')) server.push(id);
  }
  let result = { server, lb, lbInternal };
  if (!lb.length) {
    // No DMZ subnets: a default VPC (all public) or one flat network for everything.
    result = publicOnly
      ? { server: all, lb: all, lbInternal: all }
      : { server, lb: server, lbInternal: lbInternal.length ? lbInternal : server };
  }
  if (!result.server.length) {
    throw new CliError(
      `${context.path}: no subnets found in VPC ${vpcId}${config.AvailabilityZones ? ` (AZs ${config.AvailabilityZones.join(', ')})` : ''}`,
    );
  }
  const merged: ConfigurationProperties = {
    ...(config as ConfigurationProperties),
    Images: images,
    ServerSubnets: { ...config.ServerSubnets, [region]: result.server },
    LoadBalancerSubnets: { ...config.LoadBalancerSubnets, [region]: result.lb },
    LoadBalancerInternalSubnets: { ...config.LoadBalancerInternalSubnets, [region]: result.lbInternal },
  };
  applyConfiguration(merged, context);
};
