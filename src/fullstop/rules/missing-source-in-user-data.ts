import { type UserDataRule, violationType } from './rule.js';

/** User data without `source`: nobody can tell which artifact the instance runs. */
export const missingSourceInUserData: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'MISSING_SOURCE_IN_USER_DATA',
    title: 'Incomplete EC2 user data',
    help_text:
      'The Taupage user data of this instance has no source (the Docker image it runs). Deploy an image from Pier One with Senza.',
    violation_severity: 0,
    priority: 4,
    meta_info_keys: [],
  }),
  async check(userData, instance) {
    return userData.source?.trim()
      ? []
      : [
          {
            type: 'MISSING_SOURCE_IN_USER_DATA',
            instanceId: instance.instanceId,
            applicationId: userData.application_id ?? null,
          },
        ];
  },
};
