import { type UserDataRule, violationType } from './rule.js';

/** The instance runs an application its team marked inactive in Kio. */
export const applicationInactiveInKio: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'APPLICATION_INACTIVE_IN_KIO',
    title: 'Inactive application running',
    help_text:
      'The instance runs an application that is marked inactive in Kio: nobody is expected to operate it. Shut the stack down (senza delete) or mark the application active again.',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: ['application_id', 'team_id'],
  }),
  async check(userData, instance, ctx) {
    const id = userData.application_id?.trim();
    const app = id ? await ctx.applications.getApplication(id) : undefined;
    if (!app || app.active) return [];
    return [
      {
        type: 'APPLICATION_INACTIVE_IN_KIO',
        instanceId: instance.instanceId,
        metaInfo: { application_id: app.id, team_id: app.team_id },
        applicationId: app.id,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
