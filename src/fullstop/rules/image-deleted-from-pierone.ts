import { lookUpImage } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/** The instance runs a tag that was deleted from Pier One (an emergency deletion or a retention rule). */
export const imageDeletedFromPierone: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'IMAGE_DELETED_FROM_PIERONE',
    title: 'Running a deleted image',
    help_text:
      'The instance runs a Docker image whose tag was deleted from Pier One: by a platform administrator (a leaked secret, a legal reason) or by a retention rule of the team. Replace the instance with an image that is still in Pier One.',
    violation_severity: 1,
    priority: 1,
    meta_info_keys: ['source', 'deleted_by', 'deleted_at', 'reason'],
  }),
  async check(userData, instance, ctx) {
    const image = await lookUpImage(userData, ctx);
    if (image.kind !== 'deleted') return [];
    return [
      {
        type: 'IMAGE_DELETED_FROM_PIERONE',
        instanceId: instance.instanceId,
        metaInfo: {
          source: image.source,
          deleted_by: image.deletion.deleted_by,
          deleted_at: image.deletion.deleted_at,
          reason: image.deletion.reason,
        },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
