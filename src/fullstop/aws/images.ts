import type { AwsSettings } from '../../platform/aws/client-config.js';
import { AccountClients } from './account-clients.js';
import type { AccountAccess } from './assume-role.js';
import { sdk } from './sdk.js';

export interface ImageInfo {
  imageId: string;
  name: string;
  ownerId: string;
}

/**
 * Whether EC2 refused an image id because it does not know it (deregistered, never shared, not an
 * AMI id at all: `InvalidAMIID.NotFound`, `.Unavailable`, `.Malformed`) — "cannot see it", which
 * the rules judge, not a failure of the look-up.
 */
export function isUnknownImageError(error: unknown): boolean {
  return error instanceof Error && error.name.startsWith('InvalidAMIID.');
}

/** Which AMI an instance was launched from: name and owner, as the AMI rules need them. */
export interface ImageCatalog {
  /** The image, or undefined when the account cannot see it (deregistered, not shared). */
  describe(account: string, region: string, imageId: string): Promise<ImageInfo | undefined>;
}

/**
 * Looks images up with EC2 DescribeImages in the event's account and region, read through
 * `access` (by default the account's `fullstop` role, see `AccountAccess`). Answers are cached per run by the caller, not here:
 * images are immutable but may be deregistered.
 */
export class Ec2ImageCatalog implements ImageCatalog {
  readonly #clients: AccountClients;
  readonly #ownsClients: boolean;

  /**
   * `clients` shared with the other readers (the module's), so an account's EC2 client is made
   * once; else its own, reading through `access` or a new one with `assumeRoleName`.
   */
  constructor(
    aws: AwsSettings,
    options: { clients?: AccountClients; access?: AccountAccess; assumeRoleName?: string | undefined } = {},
  ) {
    this.#clients = options.clients ?? new AccountClients(aws, options);
    this.#ownsClients = options.clients === undefined;
  }

  async describe(account: string, region: string, imageId: string): Promise<ImageInfo | undefined> {
    let result;
    try {
      const { DescribeImagesCommand } = await sdk.ec2();
      const { ec2 } = await this.#clients.for(account, region);
      result = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    } catch (error) {
      // EC2 refuses ids it does not know (deregistered, never shared) instead of answering an
      // empty list; that is "cannot see it", which the rules judge. Thrown on, it would fail the
      // CloudTrail file, and the file would be retried for ever.
      if (isUnknownImageError(error)) return undefined;
      throw error;
    }
    const image = result.Images?.[0];
    if (!image?.ImageId || image.OwnerId === undefined) return undefined;
    return { imageId: image.ImageId, name: image.Name ?? '', ownerId: image.OwnerId };
  }

  dispose(): void {
    if (this.#ownsClients) this.#clients.dispose();
  }
}
