import { beforeAll, expect, it } from 'vitest';
import type { AuditLog } from '../platform/audit/audit-log.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import { createTeamService, type TeamService, teamMigrations } from './index.js';

const migrations = [...KERNEL_MIGRATIONS, { component: 'teams', migrations: teamMigrations }];

describeEachDatabase('team service', migrations, (getDatabase) => {
  let app: HttpApp;
  let service: TeamService;
  let admin: Record<string, string>;
  let jdoe: Record<string, string>;
  let robot: Record<string, string>;
  let auditLog: AuditLog;

  beforeAll(async () => {
    const issuer = await createTestIssuer();
    const ctx = createTestContext(getDatabase(), issuer.verifier, { adminUids: ['admin'] });
    auditLog = ctx.auditLog;
    service = createTeamService(ctx);
    app = await service.createApp();
    admin = { authorization: `Bearer ${await issuer.token({ uid: 'admin' })}` };
    jdoe = { authorization: `Bearer ${await issuer.token({ uid: 'jdoe' })}` };
    robot = {
      authorization: `Bearer ${await issuer.token({ uid: 'robot', realm: 'services', scopes: ['uid', 'stups.admin'] })}`,
    };
  });

  it('creates teams with members and accounts (administrators only)', async () => {
    const payload = {
      name: 'Team A',
      description: 'the A team',
      members: ['jdoe', 'alice'],
      aws_accounts: ['123456789012'],
    };
    const denied = await app.inject({ method: 'PUT', url: '/api/teams/team-a', headers: jdoe, payload });
    expect(denied.statusCode).toBe(403);
    expect(await service.store.getTeam('team-a')).toBeUndefined();

    const created = await app.inject({ method: 'PUT', url: '/api/teams/team-a', headers: admin, payload });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      id: 'team-a',
      name: 'Team A',
      type: 'official',
      description: 'the A team',
      members: ['alice', 'jdoe'],
      aws_accounts: ['123456789012'],
    });
    const bySevice = await app.inject({
      method: 'PUT',
      url: '/api/teams/team-b',
      headers: robot,
      payload: { name: 'Team B', members: ['bob'] },
    });
    expect(bySevice.statusCode).toBe(201);
  });

  it('audits each change with its request id, and each refused write', async () => {
    const added = await app.inject({ method: 'PUT', url: '/api/teams/team-a/members/carol', headers: admin });
    expect(added.statusCode).toBe(204);
    const refused = await app.inject({
      method: 'DELETE',
      url: '/api/teams/team-a/members/carol',
      headers: jdoe,
    });
    expect(refused.statusCode).toBe(403);
    const anonymous = await app.inject({ method: 'DELETE', url: '/api/teams/team-a' });
    expect(anonymous.statusCode).toBe(401);
    const events = await auditLog.query({ service: 'teams', limit: 3 });
    expect(events.map((e) => [e.action, e.actor, e.outcome, e.target_id, e.request_id])).toEqual([
      ['teams.team.delete', 'anonymous', 'refused', 'team-a', anonymous.headers['x-request-id']],
      ['teams.member.remove', 'jdoe', 'refused', 'team-a/carol', refused.headers['x-request-id']],
      ['teams.member.add', 'admin', 'success', 'team-a/carol', added.headers['x-request-id']],
    ]);
    expect(events[1]!.details).toMatchObject({ status: 403, code: 'NOT_ADMIN' });
    expect(await service.store.isMember('team-a', 'carol')).toBe(true);
    await service.store.removeMember('team-a', 'carol');
  });

  it('answers the original and the /api routes', async () => {
    const list = await app.inject({ url: '/teams', headers: jdoe });
    expect(list.json()).toEqual([
      { id: 'team-a', name: 'Team A', type: 'official', description: 'the A team' },
      { id: 'team-b', name: 'Team B', type: 'official', description: '' },
    ]);
    expect((await app.inject({ url: '/api/teams', headers: jdoe })).json()).toEqual(list.json());
    expect(
      (await app.inject({ url: '/api/teams?member=jdoe', headers: jdoe }))
        .json()
        .map((t: { id: string }) => t.id),
    ).toEqual(['team-a']);
    expect((await app.inject({ url: '/teams/team-a', headers: jdoe })).json().members).toEqual([
      'alice',
      'jdoe',
    ]);
    expect((await app.inject({ url: '/user/bob', headers: jdoe })).json()[0]).toMatchObject({
      id: 'team-b',
      members: ['bob'],
    });
    expect((await app.inject({ url: '/user/nobody', headers: jdoe })).json()).toEqual([]);
    const missing = await app.inject({ url: '/api/teams/nope', headers: jdoe });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toBe('team nope does not exist');
    expect((await app.inject({ url: '/teams' })).statusCode).toBe(401);
  });

  it('maps AWS accounts to teams and refuses to give one account to two teams', async () => {
    expect((await app.inject({ url: '/api/accounts/aws?member=jdoe', headers: jdoe })).json()).toEqual([
      { id: '123456789012', name: 'team-a', type: 'aws', description: '', owner: 'team-a', disabled: false },
    ]);
    const taken = await app.inject({
      method: 'PUT',
      url: '/api/teams/team-b',
      headers: admin,
      payload: { name: 'Team B', aws_accounts: ['123456789012'] },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().detail).toBe(
      'AWS accounts already belong to other teams: 123456789012 (team team-a)',
    );
    expect((await service.store.getTeam('team-b'))?.aws_accounts).toEqual([]);
    expect((await service.store.teamOfAccount('123456789012'))?.id).toBe('team-a');

    const account = await app.inject({
      method: 'PUT',
      url: '/api/accounts/aws/210987654321',
      headers: admin,
      payload: { owner: 'team-b', description: 'prod', disabled: 'false' },
    });
    expect(account.json()).toEqual({
      id: '210987654321',
      name: 'team-b',
      type: 'aws',
      description: 'prod',
      owner: 'team-b',
      disabled: false,
    });
    const badOwner = await app.inject({
      method: 'PUT',
      url: '/api/accounts/aws/111111111111',
      headers: admin,
      payload: { owner: 'ghost' },
    });
    expect(badOwner.statusCode).toBe(404);
    const badId = await app.inject({
      method: 'PUT',
      url: '/api/accounts/aws/12',
      headers: admin,
      payload: { owner: 'team-b' },
    });
    expect(badId.statusCode).toBe(400);
  });

  it('adds and removes members', async () => {
    expect(
      (await app.inject({ method: 'PUT', url: '/api/teams/team-a/members/carol', headers: admin }))
        .statusCode,
    ).toBe(204);
    expect(await service.store.isMember('team-a', 'carol')).toBe(true);
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/teams/team-a/members/carol', headers: admin }))
        .statusCode,
    ).toBe(204);
    expect(await service.store.isMember('team-a', 'carol')).toBe(false);
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/teams/team-a/members/carol', headers: admin }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'PUT', url: '/api/teams/team-a/members/carol', headers: jdoe })).statusCode,
    ).toBe(403);
  });

  it('rejects bad team input and writes nothing', async () => {
    for (const payload of [
      {},
      { name: 'x', members: ['Not A Uid'] },
      { name: 'x', aws_accounts: ['abc'] },
      { name: 'x', colour: 'red' },
    ]) {
      const response = await app.inject({ method: 'PUT', url: '/api/teams/team-c', headers: admin, payload });
      expect(response.statusCode).toBe(400);
    }
    expect(
      (await app.inject({ method: 'PUT', url: '/api/teams/Team_C', headers: admin, payload: { name: 'x' } }))
        .statusCode,
    ).toBe(400);
    expect(await service.store.getTeam('team-c')).toBeUndefined();
  });

  it('deletes teams and frees their accounts', async () => {
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/teams/team-b', headers: admin })).statusCode,
    ).toBe(204);
    expect(await service.store.teamOfAccount('210987654321')).toBeUndefined();
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/teams/team-b', headers: admin })).statusCode,
    ).toBe(404);
  });
});
