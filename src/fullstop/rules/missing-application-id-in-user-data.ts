import { type UserDataRule, violationType } from './rule.js';

/** User data without `application_id`: the instance cannot be traced to an application. */
export const missingApplicationIdInUserData: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'MISSING_APPLICATION_ID_IN_USER_DATA',
    title: 'Missing application id',
    help_text:
      'The Taupage user data of this instance has no application_id, so it cannot be traced to an application in Kio. Deploy with Senza and a registered application.',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: [],
  }),
  async check(userData, instance) {
    return userData.application_id?.trim()
      ? []
      : [{ type: 'MISSING_APPLICATION_ID_IN_USER_DATA', instanceId: instance.instanceId }];
  },
};
