import { lookUpImage, scmUrlOf } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/** scm-source.json without a repository URL. */
export const scmUrlIsMissingInScmSourceJson: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON',
    title: 'Incomplete scm-source.json',
    help_text:
      'The scm-source.json of the Docker image has no url, so the repository the image was built from is unknown. Generate the file with stups scm-source from a clone with a remote.',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: ['source', 'application_id', 'deployment_artifact', 'scm_source'],
  }),
  async check(userData, instance, ctx) {
    const image = await lookUpImage(userData, ctx);
    if (image.kind !== 'found' || image.tag.scm_source === null || scmUrlOf(image.tag)) return [];
    return [
      {
        type: 'SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON',
        instanceId: instance.instanceId,
        metaInfo: {
          source: image.source,
          application_id: userData.application_id ?? null,
          deployment_artifact: image.source,
          scm_source: image.tag.scm_source,
        },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
