import { lookUpImage, scmUrlOf } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';
import { normalizeScmUrl } from './scm-url.js';

/** The image was built from another repository than the one Kio names for the application. */
export const scmUrlNotMatchWithKio: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'SCM_URL_NOT_MATCH_WITH_KIO',
    title: 'Built from illegal repository',
    help_text:
      "The repository in the image's scm-source.json is not the application's SCM URL in Kio (compared without scheme, user, port and .git). Build the application from its registered repository or correct scm_url in Kio.",
    violation_severity: 0,
    priority: 2,
    meta_info_keys: [
      'application_id',
      'deployment_artifact',
      'normalized_scm_source_url',
      'normalized_kio_scm_url',
    ],
  }),
  async check(userData, instance, ctx) {
    const id = userData.application_id?.trim();
    const app = id ? await ctx.applications.getApplication(id) : undefined;
    const kioUrl = app?.scm_url?.trim();
    if (!app || !kioUrl) return [];
    const image = await lookUpImage(userData, ctx);
    const scmUrl = image.kind === 'found' ? scmUrlOf(image.tag) : undefined;
    if (image.kind !== 'found' || scmUrl === undefined) return [];
    const fromImage = normalizeScmUrl(scmUrl);
    const fromKio = normalizeScmUrl(kioUrl);
    if (fromImage && fromKio && fromImage.key === fromKio.key) return [];
    return [
      {
        type: 'SCM_URL_NOT_MATCH_WITH_KIO',
        instanceId: instance.instanceId,
        metaInfo: {
          application_id: app.id,
          deployment_artifact: image.source,
          normalized_scm_source_url: fromImage?.key ?? scmUrl,
          normalized_kio_scm_url: fromKio?.key ?? kioUrl,
        },
        applicationId: app.id,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
