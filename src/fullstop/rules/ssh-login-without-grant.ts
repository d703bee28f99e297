import { hostNamesOf } from '../audit-log.js';
import { type AuditLogRule, type Finding, violationType } from './rule.js';

/**
 * An SSH login on an instance that no even grant covered: someone reached the host around the
 * access granting (a key left behind, a grant made by hand on the bastion). The grant must name
 * the instance (its id, log host name or private address) as remote host or bastion and be live
 * at the login, give or take `sshGrantClockSkewSeconds`.
 */
export const sshLoginWithoutGrant: AuditLogRule = {
  kind: 'audit-log',
  type: violationType({
    id: 'SSH_LOGIN_WITHOUT_GRANT',
    title: 'SSH login without even grant',
    help_text:
      'A user logged in to the instance over SSH without an even grant for this host at that time. Request access with piu (even) before logging in; find out how the user got a key onto the host.',
    violation_severity: 3,
    priority: 1,
    audit_relevant: true,
    meta_info_keys: ['username', 'login_time', 'hostname', 'from', 'auth_method'],
  }),
  async check(logins, instance, ctx) {
    const skewMs = ctx.settings.sshGrantClockSkewSeconds * 1000;
    const findings: Finding[] = [];
    for (const login of logins) {
      const hosts = hostNamesOf(instance.instanceId, login.hostname);
      const grants = await ctx.accessGrants.grantsBetween(
        login.username,
        hosts,
        new Date(login.at.getTime() - skewMs),
        new Date(login.at.getTime() + skewMs),
      );
      if (grants.length > 0) continue;
      const loginTime = login.at.toISOString();
      findings.push({
        type: 'SSH_LOGIN_WITHOUT_GRANT',
        instanceId: instance.instanceId,
        // One violation per login: the same log pushed again adds nothing.
        eventTime: login.at,
        eventId: `ssh-login:${instance.instanceId}:${login.username}:${loginTime}:${login.port}`,
        metaInfo: {
          username: login.username,
          login_time: loginTime,
          hostname: login.hostname,
          from: login.from,
          auth_method: login.method,
        },
      });
    }
    return findings;
  },
};
