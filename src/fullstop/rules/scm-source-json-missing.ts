import { lookUpImage } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/** The image is in Pier One but carries no scm-source.json: nobody can tell what it was built from. */
export const scmSourceJsonMissing: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'SCM_SOURCE_JSON_MISSING',
    title: 'Missing scm-source.json',
    help_text:
      'The Docker image has no scm-source.json, so its source code revision is unknown. Generate it in the build (stups scm-source) and add it to the image root.',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: ['source'],
  }),
  async check(userData, instance, ctx) {
    const image = await lookUpImage(userData, ctx);
    if (image.kind !== 'found' || image.tag.scm_source !== null) return [];
    return [
      {
        type: 'SCM_SOURCE_JSON_MISSING',
        instanceId: instance.instanceId,
        metaInfo: { source: image.source },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
