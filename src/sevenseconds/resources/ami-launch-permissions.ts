import { DescribeImageAttributeCommand, ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import type { PlannedChange, ResourceModule } from './resource.js';
import { amiAccount, taupageImages } from './taupage-images.js';

interface ImageState {
  id: string;
  name: string;
  /** The account may launch it already (a launch permission for its id, or the image is public). */
  permitted: boolean;
}

interface LaunchPermissionOp {
  region: string;
  imageIds: string[];
}

/**
 * Launch permissions on the AMI account's Taupage images for this account (STUPS config/ami.py):
 * the images are private to the `base_ami.account_name` account, so every team account is added
 * to each matching image's `launchPermission` — a call made in the AMI account, through its login.
 * Images the account owns itself or that are public need nothing. Permissions are only added.
 */
export const amiLaunchPermissions: ResourceModule<Map<string, ImageState[]>, LaunchPermissionOp> = {
  kind: 'ami-launch-permission',
  async read(clients, account) {
    const state = new Map<string, ImageState[]>();
    if (!account.base_ami) return state;
    const base = await amiAccount(clients, account);
    if (base.ownerId === account.id) return state;
    for (const region of account.regions) {
      const images: ImageState[] = [];
      for (const image of await taupageImages(base.clients, base.ownerId, account, region)) {
        if (!image.ImageId) continue;
        const permitted =
          image.Public === true ||
          (
            (
              await base.clients.ec2(region).send(
                new DescribeImageAttributeCommand({
                  ImageId: image.ImageId,
                  Attribute: 'launchPermission',
                }),
              )
            ).LaunchPermissions ?? []
          ).some((p) => p.UserId === account.id || p.Group === 'all');
        images.push({ id: image.ImageId, name: image.Name ?? image.ImageId, permitted });
      }
      state.set(region, images);
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<LaunchPermissionOp>[] = [];
    for (const region of account.regions) {
      const missing = (current.get(region) ?? []).filter((i) => !i.permitted);
      if (!missing.length) continue;
      changes.push({
        account: account.name,
        resource: `ami-launch-permission/${region}`,
        action: 'update',
        detail: `let ${account.id} launch ${missing.map((i) => `${i.id} (${i.name})`).join(', ')}`,
        op: { region, imageIds: missing.map((i) => i.id) },
      });
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const base = await amiAccount(clients, account);
    for (const ImageId of op.imageIds) {
      await base.clients.ec2(op.region).send(
        new ModifyImageAttributeCommand({
          ImageId,
          Attribute: 'launchPermission',
          LaunchPermission: { Add: [{ UserId: account.id }] },
        }),
      );
    }
  },
};
