import { z } from 'zod';
import { type EventRule, violationType } from './rule.js';

const ROLE_EVENTS = new Set([
  'CreateRole',
  'DeleteRole',
  'AttachRolePolicy',
  'DetachRolePolicy',
  'PutRolePolicy',
  'DeleteRolePolicy',
  'UpdateAssumeRolePolicy',
]);
const RoleRequest = z.looseObject({ roleName: z.string().min(1) });

/**
 * A change to one of the IAM roles the account set-up manages (Seven Seconds' role set, the
 * `fullstop` role) by anyone but an administrator role: a possible privilege escalation.
 * STUPS compared the role with templates from a bucket; here the managed set is configured.
 */
export const modifiedRoleOrService: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'MODIFIED_ROLE_OR_SERVICE',
    title: 'Possible privilege escalation',
    help_text:
      'A role managed by the account set-up was created, deleted or had its policies changed by someone other than an administrator. Check the change and restore the role with the account set-up.',
    violation_severity: 1,
    priority: 2,
    audit_relevant: true,
    meta_info_keys: ['role_name', 'event_name', 'actor_arn'],
  }),
  async check(record, _account, ctx) {
    if (
      record.eventSource !== 'iam.amazonaws.com' ||
      !ROLE_EVENTS.has(record.eventName) ||
      record.errorCode
    ) {
      return [];
    }
    const request = RoleRequest.safeParse(record.requestParameters);
    if (!request.success || !ctx.settings.managedRoles.includes(request.data.roleName)) return [];
    const issuer = record.userIdentity?.sessionContext?.sessionIssuer?.userName;
    if (issuer !== undefined && ctx.settings.adminRoles.includes(issuer)) return [];
    return [
      {
        type: 'MODIFIED_ROLE_OR_SERVICE',
        metaInfo: {
          role_name: request.data.roleName,
          event_name: record.eventName,
          actor_arn: record.userIdentity?.arn ?? null,
        },
      },
    ];
  },
};
