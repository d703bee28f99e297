import type { EC2Client } from '@aws-sdk/client-ec2';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import { AccountAccess } from './assume-role.js';
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
  readonly #clients = new Map<string, EC2Client>();

  readonly #access: AccountAccess;
  readonly #ownsAccess: boolean;

  /** `access` shared with other readers (the module's); else one of its own with `assumeRoleName`. */
  constructor(
    private readonly aws: AwsSettings,
    options: { access?: AccountAccess; assumeRoleName?: string | undefined } = {},
  ) {
    this.#access = options.access ?? new AccountAccess(aws, { roleName: options.assumeRoleName });
    this.#ownsAccess = options.access === undefined;
  }

  async describe(account: string, region: string, imageId: string): Promise<ImageInfo | undefined> {
    let result;
    try {
      const { DescribeImagesCommand } = await sdk.ec2();
      const client = await this.#client(account, region);
      result = await client.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
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

  async #client(account: string, region: string): Promise<EC2Client> {
    const key = `${account}/${region}`;
    let client = this.#clients.get(key);
    if (!client) {
      const { EC2Client } = await sdk.ec2();
      client = new EC2Client({
        ...awsClientConfig(this.aws),
        region,
        ...this.#access.clientOptions(account),
      });
      this.#clients.set(key, client);
    }
    return client;
  }

  dispose(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
    if (this.#ownsAccess) this.#access.dispose();
  }
}
