import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import { TeamStore, teamMigrations } from '../../teams/index.js';
import {
  createFixture,
  EMPLOYEE,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../test-support.js';

const DEV_ACCOUNT = '111111111111';
const PROD_ACCOUNT = '444444444444';
const MATE = { uid: 'mate', password: 'mate-password-1' };
const STRANGER = { uid: 'stranger', password: 'stranger-password-1' };
const ADMIN = { uid: 'admin', password: 'admin-password-1' };

/** Issue 19: roles in listed accounts need a second approver before anything is issued. */
describeEachDatabase(
  'AWS access requests with a second approver',
  [...TOKEN_SERVICE_TEST_MIGRATIONS, { component: 'teams', migrations: teamMigrations }],
  (getDatabase) => {
    let f: TokenServiceFixture;
    const tokens: Record<string, string> = {};
    const roleArn = (account: string, role = 'PowerUser') => `arn:aws:iam::${account}:role/${role}`;

    beforeAll(async () => {
      const teams = new TeamStore(getDatabase());
      await teams.putTeam('team-a', {
        name: 'Team A',
        members: [EMPLOYEE.uid, MATE.uid],
        aws_accounts: [DEV_ACCOUNT, PROD_ACCOUNT],
      });
      await teams.putTeam('team-b', { name: 'Team B', members: [STRANGER.uid], aws_accounts: [] });
      f = await createFixture(
        getDatabase(),
        {
          aws: {
            roleMapping: [{ who: 'members', role: 'PowerUser', accounts: 'team' }],
            secondApprover: { accounts: ['4444*'], approvalValiditySeconds: 3600 },
          },
        },
        { awsAccounts: teams },
      );
      for (const u of [MATE, STRANGER, ADMIN])
        if (!(await f.users.getUser(u.uid)))
          await f.users.putUser(u.uid, { name: u.uid, email: `${u.uid}@example.org`, password: u.password });
      tokens[EMPLOYEE.uid] = (await passwordToken(f.app)).access_token;
      for (const u of [MATE, STRANGER, ADMIN])
        tokens[u.uid] = (await passwordToken(f.app, { username: u.uid, password: u.password })).access_token;
    });
    afterAll(async () => {
      await f?.close();
    });

    const call = (method: 'GET' | 'POST', url: string, uid: string, payload?: Record<string, unknown>) =>
      f.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[uid]}` }, payload });
    const assertion = (uid: string, account: string) =>
      call('POST', '/aws/saml-assertion', uid, { role_arn: roleArn(account) });
    const webIdentity = (uid: string, account: string) =>
      call('POST', '/aws/web-identity-token', uid, { role_arn: roleArn(account) });
    const events = (action: string) => f.ctx.auditLog.query({ service: 'token-service', action, limit: 100 });

    it('issues roles of unlisted accounts as before', async () => {
      expect((await assertion(EMPLOYEE.uid, DEV_ACCOUNT)).statusCode).toBe(200);
    });

    it('refuses a listed account with 403 approval_required naming how to ask, audited as refused', async () => {
      for (const answer of [
        await assertion(EMPLOYEE.uid, PROD_ACCOUNT),
        await webIdentity(EMPLOYEE.uid, PROD_ACCOUNT),
      ]) {
        expect(answer.statusCode).toBe(403);
        expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(answer.json()).toMatchObject({ code: 'approval_required' });
        expect(answer.json().detail).toContain('POST /aws/access-requests');
        expect(answer.json().detail).toContain('a member of team team-a or a platform administrator');
      }
      const [refused] = await events('token-service.aws.saml_assertion');
      expect(refused).toMatchObject({ outcome: 'refused' });
    });

    it('request → pending; the requester cannot approve; a stranger cannot; a team mate approves; then issued until the window ends', async () => {
      const created = await call('POST', '/aws/access-requests', EMPLOYEE.uid, {
        account: 'team-a',
        role: 'PowerUser',
        reason: 'hotfix INC-42',
      });
      expect(created.statusCode).toBe(201);
      const request = created.json();
      expect(request).toMatchObject({
        requester: EMPLOYEE.uid,
        account_id: PROD_ACCOUNT,
        team: 'team-a',
        role_arn: roleArn(PROD_ACCOUNT),
        state: 'pending',
        reason: 'hotfix INC-42',
      });
      const [createdEvent] = await events('token-service.aws_access_request.create');
      expect(createdEvent).toMatchObject({ outcome: 'success', actor: EMPLOYEE.uid });
      expect(JSON.stringify(createdEvent)).toContain('hotfix INC-42');

      // Asking again answers the pending request, not a second one.
      const again = await call('POST', '/aws/access-requests', EMPLOYEE.uid, {
        account: PROD_ACCOUNT,
        role: roleArn(PROD_ACCOUNT),
        reason: 'again',
      });
      expect(again.statusCode).toBe(200);
      expect(again.json().id).toBe(request.id);
      const pendingRefusal = await assertion(EMPLOYEE.uid, PROD_ACCOUNT);
      expect(pendingRefusal.json().detail).toContain(`your access request ${request.id} is pending`);

      const own = await call('POST', `/aws/access-requests/${request.id}/approval`, EMPLOYEE.uid, {});
      expect(own.statusCode).toBe(403);
      expect(own.json()).toMatchObject({ code: 'own_request' });
      const stranger = await call('POST', `/aws/access-requests/${request.id}/approval`, STRANGER.uid, {});
      expect(stranger.statusCode).toBe(403);
      expect(stranger.json()).toMatchObject({ code: 'NOT_TEAM_MEMBER' });
      const refusals = await events('token-service.aws_access_request.approve');
      expect(refusals.slice(0, 2).map((e) => e.outcome)).toEqual(['refused', 'refused']);

      // Approvers see it in their list; strangers do not.
      const listed = await call('GET', '/aws/access-requests?state=pending', MATE.uid);
      expect(listed.json().map((r: { id: string }) => r.id)).toEqual([request.id]);
      expect((await call('GET', '/aws/access-requests?state=pending', STRANGER.uid)).json()).toEqual([]);

      const approved = await call('POST', `/aws/access-requests/${request.id}/approval`, MATE.uid, {
        comment: 'ok',
      });
      expect(approved.statusCode).toBe(200);
      expect(approved.json()).toMatchObject({ state: 'approved', decided_by: MATE.uid, comment: 'ok' });
      const [approveEvent] = await events('token-service.aws_access_request.approve');
      expect(approveEvent).toMatchObject({ outcome: 'success', actor: MATE.uid });

      const issued = await assertion(EMPLOYEE.uid, PROD_ACCOUNT);
      expect(issued.statusCode).toBe(200);
      expect((await webIdentity(EMPLOYEE.uid, PROD_ACCOUNT)).statusCode).toBe(200);
      const [issuedEvent] = await events('token-service.aws.saml_assertion');
      expect(issuedEvent!.details).toMatchObject({ access_request: request.id, approved_by: MATE.uid });
      // The approval is the requester's only.
      expect((await assertion(MATE.uid, PROD_ACCOUNT)).statusCode).toBe(403);

      const twice = await call('POST', `/aws/access-requests/${request.id}/rejection`, ADMIN.uid, {});
      expect(twice.statusCode).toBe(409);

      f.clock.advance(3601);
      expect((await assertion(EMPLOYEE.uid, PROD_ACCOUNT)).json()).toMatchObject({
        code: 'approval_required',
      });
      expect((await call('GET', `/aws/access-requests/${request.id}`, EMPLOYEE.uid)).json().state).toBe(
        'expired',
      );
    });

    it('a platform administrator may reject; a rejected request issues nothing', async () => {
      const created = await call('POST', '/aws/access-requests', MATE.uid, {
        account: PROD_ACCOUNT,
        role: 'PowerUser',
        reason: 'look at logs',
      });
      expect(created.statusCode).toBe(201);
      const rejected = await call('POST', `/aws/access-requests/${created.json().id}/rejection`, ADMIN.uid);
      expect(rejected.statusCode).toBe(200);
      expect(rejected.json().state).toBe('rejected');
      expect((await assertion(MATE.uid, PROD_ACCOUNT)).statusCode).toBe(403);
    });

    describe('bad input', () => {
      it('answers 400/403/404 problem+json, never 5xx', async () => {
        const cases: [string, number][] = [];
        const post = async (body: Record<string, unknown>) =>
          (await call('POST', '/aws/access-requests', EMPLOYEE.uid, body)).statusCode;
        cases.push(['no reason', await post({ account: PROD_ACCOUNT, role: 'PowerUser' })]);
        cases.push(['extra', await post({ account: PROD_ACCOUNT, role: 'PowerUser', reason: 'x', y: 1 })]);
        cases.push(['not required', await post({ account: DEV_ACCOUNT, role: 'PowerUser', reason: 'x' })]);
        cases.push(['not mine', await post({ account: PROD_ACCOUNT, role: 'Administrator', reason: 'x' })]);
        cases.push(['bad id', (await call('POST', '/aws/access-requests/x/approval', MATE.uid)).statusCode]);
        cases.push([
          'unknown id',
          (await call('GET', '/aws/access-requests/5b1f3c4e-0000-4000-8000-000000000000', MATE.uid))
            .statusCode,
        ]);
        cases.push([
          'bad state',
          (await call('GET', '/aws/access-requests?state=maybe', MATE.uid)).statusCode,
        ]);
        expect(cases).toEqual([
          ['no reason', 400],
          ['extra', 400],
          ['not required', 400],
          ['not mine', 403],
          ['bad id', 400],
          ['unknown id', 404],
          ['bad state', 400],
        ]);
      });
    });
  },
);
