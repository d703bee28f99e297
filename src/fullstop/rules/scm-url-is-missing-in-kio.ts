import { lookUpImage } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/**
 * The application is registered in Kio without its repository. As in STUPS (ScmRepositoryPlugin),
 * only checked where it matters: the instance runs a Pier One image whose source could be compared.
 */
export const scmUrlIsMissingInKio: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'SCM_URL_IS_MISSING_IN_KIO',
    title: 'SCM URL missing in KIO',
    help_text:
      'The application runs but its Kio entry has no SCM URL, so its images cannot be checked against their repository. Set scm_url in Kio (kio app update or the console).',
    violation_severity: 0,
    priority: 2,
    meta_info_keys: ['application_id'],
  }),
  async check(userData, instance, ctx) {
    const id = userData.application_id?.trim();
    const app = id ? await ctx.applications.getApplication(id) : undefined;
    if (!app || (app.scm_url ?? '').trim() !== '') return [];
    if ((await lookUpImage(userData, ctx)).kind !== 'found') return [];
    return [
      {
        type: 'SCM_URL_IS_MISSING_IN_KIO',
        instanceId: instance.instanceId,
        metaInfo: { application_id: app.id },
        applicationId: app.id,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
