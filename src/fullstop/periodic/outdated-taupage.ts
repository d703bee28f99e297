import type { Image } from '@aws-sdk/client-ec2';
import { isUnknownImageError } from '../aws/images.js';
import { type PeriodicFinding, type PeriodicRule, violationType } from '../rules/rule.js';
import { isTaupage } from '../rules/taupage.js';
import { sdk } from '../aws/sdk.js';

const DAY_MS = 86_400_000;
/** Taupage names end in the build time (`Taupage-AMI-20250301-120000`); the rest names the channel. */
const BUILD_SUFFIX = /-\d{8}-\d{6}$/;

/**
 * Running instances on a Taupage AMI that is older than `rules.taupageMaxAgeDays` or, with
 * `rules.taupageRequireLatest`, has a newer image in its channel: they miss security updates.
 * Within a channel the names differ only in the build time, so the greatest name is the newest.
 */
export const outdatedTaupage: PeriodicRule = {
  kind: 'periodic',
  name: 'outdated-taupage',
  global: false,
  type: violationType({
    id: 'OUTDATED_TAUPAGE',
    title: 'AMI is expired',
    help_text:
      'A running EC2 instance uses a Taupage AMI that is too old or no longer the latest of its channel, so it misses security updates. Redeploy the application with the current Taupage AMI.',
    violation_severity: 2,
    priority: 2,
    meta_info_keys: [
      'ami_owner_id',
      'ami_id',
      'ami_name',
      'ami_created',
      'latest_ami_id',
      'latest_ami_name',
      'reasons',
    ],
  }),
  async check({ clients, settings, now }) {
    const { paginateDescribeInstances } = await sdk.ec2();
    const instances: Array<{ instanceId: string; imageId: string }> = [];
    const running = paginateDescribeInstances(
      { client: clients.ec2 },
      { Filters: [{ Name: 'instance-state-name', Values: ['running'] }] },
    );
    for await (const page of running) {
      for (const reservation of page.Reservations ?? [])
        for (const i of reservation.Instances ?? [])
          if (i.InstanceId && i.ImageId) instances.push({ instanceId: i.InstanceId, imageId: i.ImageId });
    }
    if (!instances.length) return [];
    const imageIds = [...new Set(instances.map((i) => i.imageId))];
    const Images = await describeImages(clients.ec2, imageIds);
    const latestOf = new Map<string, Promise<Image | undefined>>();
    const findings: PeriodicFinding[] = [];
    for (const image of Images) {
      if (!image.ImageId || !image.Name || image.OwnerId === undefined) continue;
      const info = { imageId: image.ImageId, name: image.Name, ownerId: image.OwnerId };
      // Not Taupage at all is WRONG_AMI's business.
      if (!isTaupage(info, settings)) continue;
      const reasons: string[] = [];
      const created = image.CreationDate ? new Date(image.CreationDate) : undefined;
      if (created && now.getTime() - created.getTime() > settings.taupageMaxAgeDays * DAY_MS)
        reasons.push(`older than ${settings.taupageMaxAgeDays} days`);
      let latest: Image | undefined;
      if (settings.taupageRequireLatest) {
        const channel = image.Name.replace(BUILD_SUFFIX, '');
        let pending = latestOf.get(channel);
        if (!pending) {
          const owners = settings.taupageOwners.length ? settings.taupageOwners : [image.OwnerId];
          pending = newestOfChannel(clients.ec2, channel, owners);
          latestOf.set(channel, pending);
        }
        latest = await pending;
        if (latest?.Name && latest.Name > image.Name) reasons.push('a newer Taupage AMI exists');
      }
      if (!reasons.length) continue;
      for (const instance of instances.filter((i) => i.imageId === image.ImageId)) {
        findings.push({
          type: 'OUTDATED_TAUPAGE',
          resource: instance.instanceId,
          instanceId: instance.instanceId,
          metaInfo: {
            ami_owner_id: image.OwnerId,
            ami_id: image.ImageId,
            ami_name: image.Name,
            ami_created: image.CreationDate ?? null,
            latest_ami_id: latest?.ImageId ?? null,
            latest_ami_name: latest?.Name ?? null,
            reasons,
          },
        });
      }
    }
    return findings;
  },
};

type Ec2 = Parameters<PeriodicRule['check']>[0]['clients']['ec2'];

/**
 * The images among `imageIds` the account can still see. A deregistered image is left out of the
 * answer, but an id EC2 does not know at all fails the whole call (`InvalidAMIID.NotFound`), and
 * instances outlive their AMIs: such a batch is asked again image by image.
 */
async function describeImages(ec2: Ec2, imageIds: readonly string[]): Promise<Image[]> {
  const { DescribeImagesCommand } = await sdk.ec2();
  const images: Image[] = [];
  for (let i = 0; i < imageIds.length; i += 100) {
    const batch = imageIds.slice(i, i + 100);
    try {
      images.push(...((await ec2.send(new DescribeImagesCommand({ ImageIds: batch }))).Images ?? []));
    } catch (error) {
      if (!isUnknownImageError(error)) throw error;
      for (const id of batch) {
        try {
          images.push(...((await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images ?? []));
        } catch (single) {
          if (!isUnknownImageError(single)) throw single;
        }
      }
    }
  }
  return images;
}

async function newestOfChannel(ec2: Ec2, channel: string, owners: string[]): Promise<Image | undefined> {
  const { DescribeImagesCommand } = await sdk.ec2();
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: owners,
      Filters: [
        { Name: 'name', Values: [`${channel}-*`] },
        { Name: 'state', Values: ['available'] },
      ],
    }),
  );
  // The filter's wildcard also matches longer channel names (`Taupage-AMI-arm-…`): keep this channel.
  return Images.filter((i) => i.Name && i.Name.replace(BUILD_SUFFIX, '') === channel).reduce<
    Image | undefined
  >((newest, i) => (!newest?.Name || (i.Name ?? '') > newest.Name ? i : newest), undefined);
}
