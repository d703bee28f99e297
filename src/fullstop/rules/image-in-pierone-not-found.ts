import { lookUpImage } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/** The Docker image an instance runs is not a tag of our Pier One. */
export const imageInPieroneNotFound: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'IMAGE_IN_PIERONE_NOT_FOUND',
    title: 'Unknown deployment artifact',
    help_text:
      'Deployment artifact (Docker image) not found in Pier One. Images from other registries, untagged images and `latest` cannot be traced to their source: push the image to Pier One with an immutable tag and deploy that tag.',
    violation_severity: 2,
    priority: 1,
    meta_info_keys: ['source'],
  }),
  async check(userData, instance, ctx) {
    const image = await lookUpImage(userData, ctx);
    if (image.kind !== 'not-found') return [];
    return [
      {
        type: 'IMAGE_IN_PIERONE_NOT_FOUND',
        instanceId: instance.instanceId,
        metaInfo: { source: image.source },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
