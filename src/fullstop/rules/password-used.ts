import { z } from 'zod';
import { type EventRule, violationType } from './rule.js';

const LoginResponse = z.looseObject({ ConsoleLogin: z.string() });
const LoginData = z.looseObject({ MFAUsed: z.string().optional() });

/**
 * A console login with a password of an IAM user or the root user. People log in through the
 * identity provider (federated sessions); an IAM password is a credential outside the platform.
 */
export const passwordUsed: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'PASSWORD_USED',
    title: 'IAM User has password set',
    help_text:
      "Somebody logged in to the AWS console with the password of an IAM user or the root user. Log in through the identity provider; remove the IAM user's password (root: lock it away with MFA).",
    violation_severity: 1,
    priority: 1,
    audit_relevant: true,
    meta_info_keys: ['user_name', 'user_type', 'mfa_used'],
  }),
  async check(record) {
    if (record.eventName !== 'ConsoleLogin' || record.eventSource !== 'signin.amazonaws.com') return [];
    const type = record.userIdentity?.type;
    if (type !== 'IAMUser' && type !== 'Root') return [];
    const response = LoginResponse.safeParse(record.responseElements);
    if (!response.success || response.data.ConsoleLogin !== 'Success') return [];
    const data = LoginData.safeParse(record.additionalEventData);
    return [
      {
        type: 'PASSWORD_USED',
        metaInfo: {
          user_name: record.userIdentity?.userName ?? (type === 'Root' ? 'root' : null),
          user_type: type,
          mfa_used: data.success ? data.data.MFAUsed === 'Yes' : null,
        },
      },
    ];
  },
};
