import { type UserDataRule, violationType } from './rule.js';

const SNAPSHOT = /-SNAPSHOT$/;

/** An instance running a `-SNAPSHOT` artifact: mutable, so not traceable to one build. */
export const ec2WithASnapshotImage: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'EC2_WITH_A_SNAPSHOT_IMAGE',
    title: 'Snapshot deployment artifact',
    help_text:
      'The instance runs a -SNAPSHOT image. Snapshot tags may be overwritten, so what runs cannot be traced to one build; deploy a release tag.',
    violation_severity: 2,
    priority: 1,
    meta_info_keys: ['deployment_artifact'],
  }),
  async check(userData, instance) {
    const source = userData.source?.trim();
    if (!source || !SNAPSHOT.test(source)) return [];
    return [
      {
        type: 'EC2_WITH_A_SNAPSHOT_IMAGE',
        instanceId: instance.instanceId,
        metaInfo: { deployment_artifact: source },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
