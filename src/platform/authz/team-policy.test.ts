import { beforeAll, expect, it } from 'vitest';
import { TeamStore } from '../../teams/store.js';
import { teamMigrations } from '../../teams/migrations.js';
import type { Principal, Realm } from '../auth/principal.js';
import { NotAllowedError } from '../errors.js';
import { describeEachDatabase } from '../test-support/databases.js';
import { TeamPolicy } from './team-policy.js';

function principal(uid: string, realm: Realm, scopes: string[] = ['uid']): Principal {
  return {
    uid,
    realm,
    scopes: new Set(scopes),
    clientId: undefined,
    grantType: undefined,
    issuer: 'https://issuer.test',
    tokenId: undefined,
    expiresAt: new Date(Date.now() + 60_000),
  };
}

describeEachDatabase('TeamPolicy', [{ component: 'teams', migrations: teamMigrations }], (getDatabase) => {
  let teams: TeamStore;
  let policy: TeamPolicy;
  const applications = new Map([['order-engine', { team_id: 'team-a' }]]);

  beforeAll(async () => {
    teams = new TeamStore(getDatabase());
    await teams.putTeam('team-a', { name: 'A', members: ['jdoe', 'order-engine'] });
    await teams.putTeam('team-b', { name: 'B', members: ['bob'] });
    policy = new TeamPolicy({
      teams,
      applications: { getApplication: async (id) => applications.get(id) },
      adminPolicy: { adminUids: new Set(['admin']), adminScope: 'stups.admin' },
    });
  });

  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotAllowedError);
    const { code, message } = error as NotAllowedError;
    return { code, message };
  };

  it('lets members, administrators and services of the team’s applications act for it', async () => {
    expect(await policy.assertMayActFor(principal('jdoe', 'employees'), 'team-a')).toBe('member');
    expect(await policy.assertMayActFor(principal('admin', 'employees'), 'team-b')).toBe('admin');
    expect(await policy.assertMayActFor(principal('robot', 'services', ['stups.admin']), 'team-b')).toBe(
      'admin',
    );
    expect(
      await policy.assertMayActFor(principal('order-engine', 'services', ['application.write']), 'team-a'),
    ).toBe('application');
    expect(
      await refusal(policy.assertMayActFor(principal('jdoe', 'employees'), ['team-a', 'team-b'])),
    ).toEqual({
      code: 'NOT_TEAM_MEMBER',
      message: 'jdoe is not a member of team team-b',
    });
    expect(
      await refusal(
        policy.assertMayActFor(principal('order-engine', 'services', ['application.write']), 'team-b'),
      ),
    ).toEqual({
      code: 'NOT_TEAM_MEMBER',
      message: 'service order-engine belongs to team team-a, not to team-b',
    });
  });

  it('never takes a service for the employee of the same name', async () => {
    // "jdoe" is a member of team-a as an employee; a service called jdoe is not.
    expect(await refusal(policy.assertMayActFor(principal('jdoe', 'services', ['uid']), 'team-a'))).toEqual({
      code: 'INSUFFICIENT_SCOPE',
      message: 'the access token lacks the scope application.write',
    });
    expect(
      await refusal(policy.assertMayActFor(principal('jdoe', 'services', ['application.write']), 'team-a')),
    ).toEqual({ code: 'NOT_TEAM_MEMBER', message: 'service jdoe is not a registered application' });
    expect(policy.isEmployee(principal('jdoe', 'services'), 'jdoe')).toBe(false);
    expect(policy.isEmployee(principal('jdoe', 'employees'), 'jdoe')).toBe(true);
  });

  it('decides from the directories on every call: a membership change holds at once', async () => {
    const bob = principal('bob', 'employees');
    expect(await policy.mayActFor(bob, 'team-b')).toBe(true);
    await teams.removeMember('team-b', 'bob');
    expect(await policy.mayActFor(bob, 'team-b')).toBe(false);
    await teams.addMember('team-b', 'bob');
    expect(await policy.mayActFor(bob, 'team-b')).toBe(true);
    applications.set('order-engine', { team_id: 'team-b' });
    const service = principal('order-engine', 'services', ['application.write']);
    expect(await policy.mayActFor(service, 'team-a')).toBe(false);
    applications.set('order-engine', { team_id: 'team-a' });
    expect(await policy.mayActFor(service, 'team-a')).toBe(true);
  });

  it('takes a service user’s stored application, never its name, when its issuer records it', async () => {
    // The token service's records: issuer https://issuer.test keeps these service users.
    const stored = new Map<string, string | null>([
      ['stups_order-engine', 'order-engine'],
      ['order-engine', 'ghost-app'],
      ['stups_orphan', null],
    ]);
    const withDirectory = new TeamPolicy({
      teams,
      applications: { getApplication: async (id) => applications.get(id) },
      adminPolicy: { adminUids: new Set(['admin']), adminScope: 'stups.admin' },
      serviceApplications: {
        applicationOf: async (p) =>
          p.issuer === 'https://issuer.test' && stored.has(p.uid)
            ? { applicationId: stored.get(p.uid) ?? null }
            : undefined,
      },
    });
    const service = (uid: string) => principal(uid, 'services', ['application.write']);
    expect(await withDirectory.assertMayActFor(service('stups_order-engine'), 'team-a')).toBe('application');
    expect(await refusal(withDirectory.assertMayActFor(service('stups_order-engine'), 'team-b'))).toEqual({
      code: 'NOT_TEAM_MEMBER',
      message: 'service stups_order-engine belongs to team team-a, not to team-b',
    });
    // Named like the application, stored for another: the stored one counts.
    expect(await refusal(withDirectory.assertMayActFor(service('order-engine'), 'team-a'))).toEqual({
      code: 'NOT_TEAM_MEMBER',
      message: 'the application ghost-app of service user order-engine is not registered',
    });
    expect(await refusal(withDirectory.assertMayActFor(service('stups_orphan'), 'team-a'))).toEqual({
      code: 'NOT_TEAM_MEMBER',
      message: 'service user stups_orphan belongs to no application',
    });
    // Another issuer keeps no record: the STUPS rule uid = application id.
    const external = { ...service('order-engine'), issuer: 'https://idp.example.org' };
    expect(await withDirectory.assertMayActFor(external, 'team-a')).toBe('application');
    // Without the directory, a stups_ name is just an unknown application.
    expect(await refusal(policy.assertMayActFor(service('stups_order-engine'), 'team-a'))).toEqual({
      code: 'NOT_TEAM_MEMBER',
      message: 'service stups_order-engine is not a registered application',
    });
  });

  it('takes options for services that grant more or less (Pier One)', async () => {
    const writeAll = principal('ci', 'services', ['application.write_all']);
    expect(await policy.assertMayActFor(writeAll, 'team-b', { anyTeamScope: 'application.write_all' })).toBe(
      'any-team-scope',
    );
    expect(await policy.mayActFor(writeAll, 'team-b')).toBe(false);
    expect(await policy.mayActFor(principal('admin', 'employees'), 'team-b', { admins: false })).toBe(false);
    expect(
      await refusal(
        Promise.resolve().then(() => policy.assertAdmin(principal('jdoe', 'employees'), 'do this')),
      ),
    ).toEqual({
      code: 'NOT_ADMIN',
      message: 'only platform administrators may do this',
    });
  });
});
