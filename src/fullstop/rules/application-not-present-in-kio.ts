import { type UserDataRule, violationType } from './rule.js';

/** User data naming an application that Kio does not know. */
export const applicationNotPresentInKio: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'APPLICATION_NOT_PRESENT_IN_KIO',
    title: 'Unknown application ID',
    help_text:
      'The instance runs an application id that is not registered in Kio. Register the application (kio app create) or fix application_id in the Senza definition.',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: ['application_id'],
  }),
  async check(userData, instance, ctx) {
    const id = userData.application_id?.trim();
    if (!id || (await ctx.applications.getApplication(id))) return [];
    return [
      {
        type: 'APPLICATION_NOT_PRESENT_IN_KIO',
        instanceId: instance.instanceId,
        metaInfo: { application_id: id },
        applicationId: id,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
