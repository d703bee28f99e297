import { DescribeImagesCommand, type Image } from '@aws-sdk/client-ec2';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';

/** The Taupage image name STUPS builds (`Taupage-AMI-<date>-<time>`); `base_ami.name` overrides it. */
export const DEFAULT_TAUPAGE_NAME = 'Taupage-AMI-*';

/** The AMI account's clients and the id owning its images (`base_ami.owner_id`, else that account's). */
export async function amiAccount(
  clients: AccountClients,
  account: AccountConfig,
): Promise<{ clients: AccountClients; accountId: string; ownerId: string }> {
  if (!account.base_ami) throw new AccountFailure('no base_ami configured');
  if (!clients.amiAccount || !clients.amiAccountId) {
    throw new AccountFailure(`no login to the AMI account ${account.base_ami.account_name}`);
  }
  return {
    clients: await clients.amiAccount(),
    accountId: clients.amiAccountId,
    ownerId: account.base_ami.owner_id ?? clients.amiAccountId,
  };
}

/** The available EBS-backed Taupage images of the AMI account in a region, newest first. */
export async function taupageImages(
  base: AccountClients,
  ownerId: string,
  account: AccountConfig,
  region: string,
): Promise<Image[]> {
  const images =
    (
      await base.ec2(region).send(
        new DescribeImagesCommand({
          Owners: [ownerId],
          Filters: [
            { Name: 'name', Values: [account.base_ami?.name ?? DEFAULT_TAUPAGE_NAME] },
            { Name: 'state', Values: ['available'] },
            { Name: 'root-device-type', Values: ['ebs'] },
          ],
        }),
      )
    ).Images ?? [];
  // Taupage names carry their build time too: they order images made in the same second.
  return images.sort(
    (a, b) =>
      (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') ||
      (b.Name ?? '').localeCompare(a.Name ?? ''),
  );
}
