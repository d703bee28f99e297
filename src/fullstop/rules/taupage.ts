import type { ImageInfo } from '../aws/images.js';
import type { RuleSettings } from '../settings.js';

/** Whether an AMI is a Taupage image: its name has the configured prefix and an allowed owner made it. */
export function isTaupage(image: ImageInfo, settings: RuleSettings): boolean {
  const ownerAllowed = settings.taupageOwners.length === 0 || settings.taupageOwners.includes(image.ownerId);
  return ownerAllowed && image.name.startsWith(settings.taupageNamePrefix);
}
