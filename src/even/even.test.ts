import { beforeAll, beforeEach, expect, it } from 'vitest';
import type { AuditLog } from '../platform/audit/audit-log.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { sshKeygen } from '../platform/test-support/ssh-keygen.js';
import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import { teamMigrations } from '../teams/migrations.js';
import { TeamStore } from '../teams/store.js';
import { userMigrations } from '../users/migrations.js';
import { UserStore } from '../users/store.js';
import { createEvenService, type EvenService, evenMigrations } from './index.js';
import { RecordingBastion } from './test-support.js';

const migrations = [
  ...KERNEL_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  { component: 'users', migrations: userMigrations },
  { component: 'even', migrations: evenMigrations },
];

const HOST_A = 'odd-eu-west-1.team-a.example.org';

describeEachDatabase('even', migrations, (getDatabase) => {
  let app: HttpApp;
  let service: EvenService;
  let makeService: (interval: number) => EvenService;
  let auditLog: AuditLog;
  let bastion: RecordingBastion;
  let now: Date;
  let auth: Record<string, Record<string, string>>;
  let jdoeKey: string;

  beforeAll(async () => {
    const database = getDatabase();
    const teams = new TeamStore(database);
    const users = new UserStore(database);
    await teams.putTeam('team-a', { name: 'A', members: ['jdoe', 'nokey', 'gone', 'alice'] });
    await teams.putTeam('team-b', { name: 'B', members: ['bob'] });
    for (const uid of ['jdoe', 'bob', 'nokey', 'loner', 'gone', 'alice']) {
      await users.putUser(uid, { name: uid, email: `${uid}@example.org`, disabled: uid === 'gone' });
    }
    jdoeKey = (await sshKeygen('ed25519', { comment: 'jdoe' })).publicKey;
    await users.addSshKey('jdoe', jdoeKey);
    for (const uid of ['bob', 'loner', 'gone', 'alice']) {
      await users.addSshKey(uid, (await sshKeygen()).publicKey);
    }
    const issuer = await createTestIssuer();
    const ctx = createTestContext(database, issuer.verifier, { adminUids: ['admin'] });
    auditLog = ctx.auditLog;
    bastion = new RecordingBastion();
    now = new Date('2026-03-01T10:00:00.000Z');
    makeService = (expiryCheckIntervalMs) =>
      createEvenService(ctx, {
        teams,
        users,
        bastion,
        clock: () => now,
        config: {
          hostnameTemplates: ['odd-{region}.{team}.example.org'],
          allowedHosts: [{ hostname: 'localhost', teams: ['team-a'], address: '127.0.0.1', port: 2222 }],
          maxLifetimeMinutes: 480,
          ssh: {
            privateKey: 'unused by the recording bastion',
            knownHostKeys: [
              'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bastion',
            ],
          },
          expiryCheckIntervalMs,
        },
      });
    service = makeService(30_000);
    app = await service.createApp();
    auth = {};
    for (const uid of ['jdoe', 'bob', 'nokey', 'loner', 'gone', 'alice', 'admin']) {
      auth[uid] = { authorization: `Bearer ${await issuer.token({ uid })}` };
    }
    // A service whose name happens to be an employee's uid.
    auth.serviceJdoe = {
      authorization: `Bearer ${await issuer.token({ uid: 'jdoe', realm: 'services', scopes: ['uid'] })}`,
    };
  });

  beforeEach(() => {
    bastion.answer = () => ({ exitCode: 0, stdout: 'Access granted\n', stderr: '' });
  });

  const post = (uid: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/access-requests', headers: auth[uid], payload });

  it('grants a team member access to the team bastion and runs the forced command', async () => {
    const response = await post('jdoe', { hostname: HOST_A, reason: 'Troubleshoot problem XY' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toBe(`Access to host ${HOST_A} for user jdoe was granted.`);
    expect(bastion.calls.at(-1)).toEqual({
      target: { hostname: HOST_A, address: HOST_A, port: 22 },
      command: 'grant-ssh-access --lifetime-minutes=60 jdoe',
    });

    const list = await app.inject({ url: '/access-requests?username=jdoe', headers: auth.bob });
    expect(list.json()[0]).toEqual({
      id: expect.any(Number),
      username: 'jdoe',
      hostname: HOST_A,
      reason: 'Troubleshoot problem XY',
      remote_host: null,
      status: 'GRANTED',
      status_reason: 'granted for 60 minutes (team team-a)',
      lifetime_minutes: 60,
      expires_at: '2026-03-01T11:00:00.000Z',
      created: '2026-03-01T10:00:00.000Z',
      created_by: 'jdoe',
      last_modified: '2026-03-01T10:00:00.000Z',
      last_modified_by: 'jdoe',
    });
    const events = await auditLog.query({ service: 'even', targetId: String(list.json()[0].id), limit: 5 });
    expect(events.map((e) => [e.action, e.actor, e.actor_realm, e.outcome, e.request_id])).toEqual([
      ['even.access_request.grant', 'jdoe', 'employees', 'success', response.headers['x-request-id']],
      ['even.access_request.create', 'jdoe', 'employees', 'success', response.headers['x-request-id']],
    ]);
    expect(events[0]!.details).toMatchObject({
      request_status: 'GRANTED',
      hostname: HOST_A,
      username: 'jdoe',
      reason: 'Troubleshoot problem XY',
    });
  });

  it('passes remote host and lifetime (also as a string), and uses the allow-list target', async () => {
    const remote = await post('jdoe', {
      hostname: HOST_A,
      reason: 'db check',
      remote_host: '172.31.146.1',
      lifetime_minutes: '30',
    });
    expect(remote.statusCode).toBe(200);
    expect(bastion.calls.at(-1)!.command).toBe(
      'grant-ssh-access --lifetime-minutes=30 --remote-host=172.31.146.1 jdoe',
    );

    const local = await post('jdoe', { hostname: 'localhost', reason: 'demo' });
    expect(local.body).toBe('Access to host localhost for user jdoe was granted.');
    expect(bastion.calls.at(-1)!.target).toEqual({ hostname: 'localhost', address: '127.0.0.1', port: 2222 });
    expect((await post('bob', { hostname: 'localhost', reason: 'demo' })).statusCode).toBe(403);
  });

  it('refuses bad input with a clear problem before anything touches the bastion', async () => {
    const before = bastion.calls.length;
    const cases: [string, Record<string, unknown>, number, string, string | RegExp][] = [
      ['jdoe', { hostname: HOST_A }, 400, 'INPUT_INVALID', /reason/],
      ['jdoe', { hostname: HOST_A, reason: '   ' }, 400, 'INPUT_INVALID', /reason/],
      ['jdoe', { hostname: 'odd.team-a.example.org;id', reason: 'x' }, 400, 'INPUT_INVALID', /hostname/],
      ['jdoe', { hostname: '$(touch /tmp/pwned)', reason: 'x' }, 400, 'INPUT_INVALID', /hostname/],
      ['jdoe', { hostname: '`id`.example.org', reason: 'x' }, 400, 'INPUT_INVALID', /hostname/],
      ['jdoe', { hostname: 'a b', reason: 'x' }, 400, 'INPUT_INVALID', /hostname/],
      ['jdoe', { hostname: '--help', reason: 'x' }, 400, 'INPUT_INVALID', /hostname/],
      ['jdoe', { hostname: '', reason: 'x' }, 400, 'INPUT_INVALID', /hostname/],
      ['jdoe', { hostname: HOST_A, reason: 'x', username: 'jdoe;reboot' }, 400, 'INPUT_INVALID', /username/],
      ['jdoe', { hostname: HOST_A, reason: 'x', username: '$(id)' }, 400, 'INPUT_INVALID', /username/],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', remote_host: '10.0.0.1 && rm -rf /' },
        400,
        'INPUT_INVALID',
        /remote_host/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', remote_host: '10.0.0.1\nid' },
        400,
        'INPUT_INVALID',
        /remote_host/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', lifetime_minutes: 0 },
        400,
        'INPUT_INVALID',
        /lifetime_minutes/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', lifetime_minutes: 525601 },
        400,
        'INPUT_INVALID',
        /lifetime_minutes/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', lifetime_minutes: 1.5 },
        400,
        'INPUT_INVALID',
        /lifetime_minutes/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', lifetime_minutes: '60; id' },
        400,
        'INPUT_INVALID',
        /lifetime_minutes/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', lifetime_minutes: 481 },
        400,
        'LIFETIME_TOO_LONG',
        'lifetime_minutes 481 exceeds the maximum of 480 minutes',
      ],
      ['jdoe', { hostname: HOST_A, reason: 'x', colour: 'red' }, 400, 'INPUT_INVALID', /colour/],
      [
        'jdoe',
        { hostname: 'evil.example.org', reason: 'x' },
        403,
        'HOST_NOT_ALLOWED',
        /^access denied: host evil\.example\.org is not a known bastion \(expected odd-\{region\}\.\{team\}\.example\.org\) \(request \d+\)$/,
      ],
      [
        'bob',
        { hostname: HOST_A, reason: 'x' },
        403,
        'HOST_NOT_ALLOWED',
        /^access denied: bob is not a member of team team-a, which owns host odd-eu-west-1\.team-a\.example\.org/,
      ],
      [
        'loner',
        { hostname: HOST_A, reason: 'x' },
        403,
        'NOT_IN_ANY_TEAM',
        /^access denied: loner is not a member of any team/,
      ],
      [
        'jdoe',
        { hostname: HOST_A, reason: 'x', username: 'alice' },
        403,
        'NOT_YOURSELF',
        /jdoe may request access only for itself, not for alice/,
      ],
      ['gone', { hostname: HOST_A, reason: 'x' }, 403, 'USER_DISABLED', /user gone is disabled/],
      [
        'nokey',
        { hostname: HOST_A, reason: 'x' },
        400,
        'NO_SSH_KEYS',
        /^nokey has no SSH public key: add one to the user service first/,
      ],
    ];
    for (const [uid, payload, status, code, detail] of cases) {
      const response = await post(uid, payload);
      expect({ payload, status: response.statusCode }).toEqual({ payload, status });
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json();
      expect(problem.code).toBe(code);
      const text = `${problem.detail} ${JSON.stringify(problem.errors ?? '')}`;
      if (typeof detail === 'string') expect(problem.detail).toBe(detail);
      else expect(code === 'INPUT_INVALID' ? text : problem.detail).toMatch(detail);
    }
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/access-requests',
          payload: { hostname: HOST_A, reason: 'x' },
        })
      ).statusCode,
    ).toBe(401);
    expect(bastion.calls.length).toBe(before);

    const denied = await app.inject({ url: '/access-requests?status=DENIED&limit=100', headers: auth.jdoe });
    expect(denied.json().map((r: { username: string }) => r.username)).toEqual(
      expect.arrayContaining(['bob', 'loner', 'alice', 'gone']),
    );
    const failed = await app.inject({
      url: '/access-requests?status=FAILED&username=nokey',
      headers: auth.jdoe,
    });
    expect(failed.json()[0]).toMatchObject({
      status: 'FAILED',
      status_reason: 'nokey has no SSH public key',
    });
    const [event] = await auditLog.query({ service: 'even', actor: 'bob', limit: 1 });
    expect(event).toMatchObject({
      action: 'even.access_request.create',
      outcome: 'refused',
      details: expect.objectContaining({
        request_status: 'DENIED',
        code: 'HOST_NOT_ALLOWED',
        hostname: HOST_A,
      }),
    });
    // Refused once, not twice: the DENIED row's event is the refusal's record.
    const bobs = await auditLog.query({
      service: 'even',
      actor: 'bob',
      targetId: event!.target_id!,
      limit: 5,
    });
    expect(bobs).toHaveLength(1);
  });

  it('lets an administrator request access for a team member', async () => {
    const response = await post('admin', { hostname: HOST_A, reason: 'on behalf', username: 'alice' });
    expect(response.body).toBe(`Access to host ${HOST_A} for user alice was granted.`);
  });

  it('records a failed grant with what the bastion said', async () => {
    bastion.answer = () => ({
      exitCode: 1,
      stdout: '',
      stderr: 'grant-ssh-access: cannot create user jdoe\n',
    });
    const failed = await post('jdoe', { hostname: HOST_A, reason: 'x' });
    expect(failed.statusCode).toBe(400);
    expect(failed.json()).toMatchObject({
      code: 'GRANT_FAILED',
      detail: `granting access to host ${HOST_A} for user jdoe failed: grant-ssh-access: cannot create user jdoe`,
    });
    bastion.answer = () => 'unreachable';
    const unreachable = await post('jdoe', { hostname: HOST_A, reason: 'x' });
    expect(unreachable.json().detail).toBe(
      `granting access to host ${HOST_A} for user jdoe failed: bastion ${HOST_A} (${HOST_A}:22): ECONNREFUSED`,
    );
    const [latest] = (await app.inject({ url: '/access-requests?limit=1', headers: auth.jdoe })).json();
    expect(latest).toMatchObject({
      status: 'FAILED',
      status_reason: `bastion ${HOST_A} (${HOST_A}:22): ECONNREFUSED`,
    });
  });

  it('lists newest first with filters and paging', async () => {
    const all = (await app.inject({ url: '/access-requests?limit=1000', headers: auth.jdoe })).json();
    const ids = all.map((r: { id: number }) => r.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const page = (await app.inject({ url: '/access-requests?limit=2&offset=1', headers: auth.jdoe })).json();
    expect(page.map((r: { id: number }) => r.id)).toEqual(ids.slice(1, 3));
    const byHost = (
      await app.inject({ url: '/access-requests?hostname=localhost', headers: auth.jdoe })
    ).json();
    expect(byHost.every((r: { hostname: string }) => r.hostname === 'localhost')).toBe(true);
    expect(byHost.length).toBe(2);
    const future = (
      await app.inject({ url: '/access-requests?from=2026-03-02T00:00:00Z', headers: auth.jdoe })
    ).json();
    expect(future).toEqual([]);
    const past = (
      await app.inject({ url: '/access-requests?to=2026-03-02T00:00:00Z&limit=1000', headers: auth.jdoe })
    ).json();
    expect(past.length).toBe(all.length);
    expect((await app.inject({ url: '/access-requests?status=OPEN', headers: auth.jdoe })).statusCode).toBe(
      400,
    );
    expect((await app.inject({ url: '/access-requests?limit=5000', headers: auth.jdoe })).statusCode).toBe(
      400,
    );
    expect((await app.inject({ url: '/access-requests' })).statusCode).toBe(401);
  });

  it('serves public keys without authentication', async () => {
    const keys = await app.inject({ url: '/public-keys/jdoe/sshkey.pub' });
    expect(keys.statusCode).toBe(200);
    expect(keys.headers['content-type']).toMatch(/^text\/plain/);
    expect(keys.body).toBe(`${jdoeKey}\n`);
    const none = await app.inject({ url: '/public-keys/nokey/sshkey.pub' });
    expect(none.statusCode).toBe(404);
    expect(none.json().detail).toBe('nokey has no SSH public key');
    expect((await app.inject({ url: '/public-keys/Bad$User/sshkey.pub' })).statusCode).toBe(400);
  });

  it('expires grants and revokes them on the bastion once no later grant covers the user', async () => {
    const grants = (
      await app.inject({ url: '/access-requests?status=GRANTED&limit=1000', headers: auth.jdoe })
    ).json();
    expect(grants.length).toBeGreaterThan(0);
    bastion.calls.length = 0;
    // 31 minutes on: only the 30-minute grant ran out, and jdoe's 60-minute grants keep access open.
    const early = await service.expireDue(new Date(now.getTime() + 31 * 60_000));
    expect(early.expired.map((r) => r.lifetime_minutes)).toEqual([30]);
    expect(early.revoked).toEqual([]);
    expect(bastion.calls).toEqual([]);
    const [expired] = (
      await app.inject({ url: '/access-requests?status=EXPIRED', headers: auth.jdoe })
    ).json();
    expect(expired.status_reason).toBe(
      'the grant ran out; a later grant keeps access open until 2026-03-01T11:00:00.000Z',
    );

    const late = await service.expireDue(new Date(now.getTime() + 61 * 60_000));
    expect(late.revoked.sort()).toEqual([`alice@${HOST_A}`, 'jdoe@localhost', `jdoe@${HOST_A}`]);
    expect(bastion.calls.map((c) => c.command).sort()).toEqual([
      'revoke-ssh-access alice',
      'revoke-ssh-access jdoe',
      'revoke-ssh-access jdoe',
    ]);
    expect(bastion.calls.find((c) => c.target.hostname === 'localhost')?.target.port).toBe(2222);
    expect((await app.inject({ url: '/access-requests?status=GRANTED', headers: auth.jdoe })).json()).toEqual(
      [],
    );
    const [event] = await auditLog.query({ service: 'even', action: 'even.access_request.expire', limit: 1 });
    expect(event).toMatchObject({
      actor: 'even',
      outcome: 'success',
      request_id: expect.stringMatching(/^even-expiry-/),
    });
    const [bastionEvent] = await auditLog.query({
      service: 'even',
      action: 'even.access_request.revoke_on_bastion',
      limit: 1,
    });
    expect(bastionEvent).toMatchObject({ actor: 'even', outcome: 'success' });
    // A second run finds nothing: each grant is claimed once.
    expect((await service.expireDue(new Date(now.getTime() + 120 * 60_000))).expired).toEqual([]);
  });

  it('revokes a grant early for its owner or an administrator', async () => {
    await post('jdoe', { hostname: HOST_A, reason: 'short look' });
    const [grant] = (await app.inject({ url: '/access-requests?status=GRANTED', headers: auth.jdoe })).json();
    const byOther = await app.inject({
      method: 'DELETE',
      url: `/access-requests/${grant.id}`,
      headers: auth.bob,
    });
    expect(byOther.statusCode).toBe(403);
    bastion.calls.length = 0;
    const revoked = await app.inject({
      method: 'DELETE',
      url: `/access-requests/${grant.id}`,
      headers: auth.jdoe,
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({
      status: 'REVOKED',
      status_reason: 'revoked by jdoe; access revoked on the bastion',
    });
    expect(bastion.calls.map((c) => c.command)).toEqual(['revoke-ssh-access jdoe']);
    const again = await app.inject({
      method: 'DELETE',
      url: `/access-requests/${grant.id}`,
      headers: auth.jdoe,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toBe(
      `access request ${grant.id} is REVOKED, only a GRANTED request can be revoked`,
    );
    expect(
      (await app.inject({ method: 'DELETE', url: '/access-requests/999999', headers: auth.admin }))
        .statusCode,
    ).toBe(404);
  });

  it('does not take a service for the employee of the same name', async () => {
    const before = bastion.calls.length;
    const asService = await post('serviceJdoe', { hostname: HOST_A, reason: 'I am jdoe, honestly' });
    expect(asService.statusCode).toBe(403);
    expect(asService.json()).toMatchObject({ code: 'NOT_YOURSELF' });
    const named = await post('serviceJdoe', { hostname: HOST_A, reason: 'x', username: 'jdoe' });
    expect(named.statusCode).toBe(403);
    expect(bastion.calls.length).toBe(before);

    // Nor may it end the employee's grant.
    await post('jdoe', { hostname: HOST_A, reason: 'mine' });
    const [grant] = (await app.inject({ url: '/access-requests?status=GRANTED', headers: auth.jdoe })).json();
    const revoke = await app.inject({
      method: 'DELETE',
      url: `/access-requests/${grant.id}`,
      headers: auth.serviceJdoe,
    });
    expect(revoke.statusCode).toBe(403);
    const [event] = await auditLog.query({ service: 'even', action: 'even.access_request.revoke', limit: 1 });
    expect(event).toMatchObject({
      actor: 'jdoe',
      actor_realm: 'services',
      outcome: 'refused',
      target_id: String(grant.id),
      request_id: revoke.headers['x-request-id'],
    });
  });

  it('stores a grant and its audit events together, whatever text the reason holds', async () => {
    for (const reason of ['lone \ud800 surrogate', 'nul \u0000 byte', '\udc00']) {
      const calls = bastion.calls.length;
      const response = await post('jdoe', { hostname: HOST_A, reason });
      const rows = (
        await app.inject({ url: '/access-requests?username=jdoe&limit=1000', headers: auth.jdoe })
      ).json<{ id: number; reason: string }[]>();
      const events = await auditLog.query({ service: 'even', actor: 'jdoe', limit: 1000 });
      const audited = events.filter((e) => e.request_id === response.headers['x-request-id']);
      if (response.statusCode === 200) {
        // Granted: the bastion ran, so the request and both its events must be there.
        expect(bastion.calls.length).toBe(calls + 1);
        expect(audited.map((e) => e.action)).toEqual([
          'even.access_request.grant',
          'even.access_request.create',
        ]);
        expect(rows.some((r) => String(r.id) === audited[0]!.target_id)).toBe(true);
      } else {
        // Refused as bad input: nothing ran, nothing was stored.
        expect([reason, response.statusCode]).toEqual([reason, 400]);
        expect(bastion.calls.length).toBe(calls);
        expect(audited).toEqual([]);
      }
    }
  });

  it('the expiry job (run by the kernel job runner) expires grants that ran out', async () => {
    await post('jdoe', { hostname: HOST_A, reason: 'background', lifetime_minutes: 5 });
    const [grant] = (await app.inject({ url: '/access-requests?status=GRANTED', headers: auth.jdoe })).json();
    const background = makeService(20);
    expect(background.expiryJob).toMatchObject({ name: 'even.grant-expiry', intervalMs: 20 });
    const saved = now;
    now = new Date(now.getTime() + 6 * 60_000);
    try {
      await background.expiryJob.run();
      const [latest] = (
        await app.inject({ url: `/access-requests?username=jdoe&limit=1`, headers: auth.jdoe })
      ).json();
      expect(latest).toMatchObject({ id: grant.id, status: 'EXPIRED' });
    } finally {
      await background.stop();
      now = saved;
    }
  });
});
