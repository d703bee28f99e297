import { type PeriodicFinding, type PeriodicRule, violationType } from '../rules/rule.js';
import { sdk } from '../aws/sdk.js';

const DAY_MS = 86_400_000;

/** Active IAM access keys older than `rules.accessKeyMaxAgeDays`: long-lived keys leak and are never rotated. */
export const activeKeyTooOld: PeriodicRule = {
  kind: 'periodic',
  name: 'active-key-too-old',
  global: true,
  type: violationType({
    id: 'ACTIVE_KEY_TOO_OLD',
    title: 'IAM Access Key too old',
    help_text:
      'An IAM user has an active access key older than the allowed age (rules.accessKeyMaxAgeDays). Rotate the key, or better replace the IAM user with a role.',
    violation_severity: 1,
    priority: 2,
    meta_info_keys: ['access_key_id', 'user_name', 'access_key_created'],
  }),
  async check({ clients, settings, now }) {
    const { paginateListAccessKeys, paginateListUsers } = await sdk.iam();
    const findings: PeriodicFinding[] = [];
    const limit = now.getTime() - settings.accessKeyMaxAgeDays * DAY_MS;
    for await (const page of paginateListUsers({ client: clients.iam }, {})) {
      for (const user of page.Users ?? []) {
        if (!user.UserName) continue;
        const keys = paginateListAccessKeys({ client: clients.iam }, { UserName: user.UserName });
        for await (const keyPage of keys) {
          for (const key of keyPage.AccessKeyMetadata ?? []) {
            if (key.Status !== 'Active' || !key.AccessKeyId || !key.CreateDate) continue;
            if (key.CreateDate.getTime() >= limit) continue;
            findings.push({
              type: 'ACTIVE_KEY_TOO_OLD',
              resource: key.AccessKeyId,
              metaInfo: {
                access_key_id: key.AccessKeyId,
                user_name: user.UserName,
                access_key_created: key.CreateDate.toISOString(),
              },
            });
          }
        }
      }
    }
    return findings;
  },
};
