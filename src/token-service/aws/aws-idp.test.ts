import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assumeRole } from '../../mai/aws/assume-role.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { TeamStore, teamMigrations } from '../../teams/index.js';
import {
  createFixture,
  EMPLOYEE,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../test-support.js';
import { awsRolesOf } from './aws-roles.js';
import { AWS_TAGS_CLAIM } from './web-identity-token.js';

const OWN_ACCOUNT = MOTO_ACCOUNT; // jdoe's team's account; moto's default account, so IAM and STS agree
const OTHER_ACCOUNT = '210987654321';
const DISABLED_ACCOUNT = '333333333333';
const ADMIN = { uid: 'admin', password: 'admin-password-1' };

/** ADR 0010, first slice: the token service as AWS OIDC identity provider. */
describeEachDatabase(
  'token service as AWS identity provider',
  [...TOKEN_SERVICE_TEST_MIGRATIONS, { component: 'teams', migrations: teamMigrations }],
  (getDatabase) => {
    let f: TokenServiceFixture;
    let teams: TeamStore;
    let jdoeToken: string;
    let adminToken: string;
    const issuer = () => f.ctx.urls['token-service'];
    const roleArn = (account: string, role: string) => `arn:aws:iam::${account}:role/${role}`;

    beforeAll(async () => {
      teams = new TeamStore(getDatabase());
      await teams.putTeam('team-a', { name: 'Team A', members: [EMPLOYEE.uid], aws_accounts: [OWN_ACCOUNT] });
      await teams.putTeam('team-b', { name: 'Team B', members: ['other'], aws_accounts: [OTHER_ACCOUNT] });
      await teams.putTeam('team-c', {
        name: 'Team C',
        members: [EMPLOYEE.uid],
        aws_accounts: [DISABLED_ACCOUNT],
      });
      await teams.putAccount(DISABLED_ACCOUNT, { owner: 'team-c', disabled: true });
      f = await createFixture(
        getDatabase(),
        {
          aws: {
            roleMapping: [
              { who: 'members', role: 'PowerUser', accounts: 'team' },
              { who: 'everyone', role: 'ReadOnly', accounts: 'team' },
              { who: 'admins', role: 'Administrator', accounts: 'all' },
            ],
          },
        },
        { awsAccounts: teams },
      );
      if (!(await f.users.getUser(ADMIN.uid)))
        await f.users.putUser(ADMIN.uid, {
          name: 'Admin',
          email: 'admin@example.org',
          password: ADMIN.password,
        });
      jdoeToken = (await passwordToken(f.app)).access_token;
      adminToken = (await passwordToken(f.app, { username: ADMIN.uid, password: ADMIN.password }))
        .access_token;
    });
    afterAll(async () => {
      await f?.close();
    });

    const roles = (token?: string) =>
      f.app.inject({
        url: '/aws/roles',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    const webIdentityToken = (body: unknown, token?: string) =>
      f.app.inject({
        method: 'POST',
        url: '/aws/web-identity-token',
        headers: token ? { authorization: `Bearer ${token}` } : {},
        payload: body as Record<string, unknown>,
      });
    const events = () =>
      f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.aws.web_identity_token',
        limit: 100,
      });

    describe('role mapping (awsRolesOf)', () => {
      const deps = () => ({
        accounts: teams,
        adminPolicy: f.ctx.adminPolicy,
        roleMapping: [
          { who: 'members', role: 'PowerUser', accounts: 'team' },
          { who: 'everyone', role: 'ReadOnly', accounts: 'team' },
          { who: 'admins', role: 'Administrator', accounts: 'all' },
        ] as const,
        oidcProviderHost: 'auth.example.org',
      });

      it("gives a member the mapped roles in the team's enabled accounts only", async () => {
        const list = await awsRolesOf(EMPLOYEE.uid, { ...deps(), roleMapping: [...deps().roleMapping] });
        expect(list).toEqual([
          {
            account_id: OWN_ACCOUNT,
            account_name: 'team-a',
            team: 'team-a',
            role_name: 'PowerUser',
            role_arn: roleArn(OWN_ACCOUNT, 'PowerUser'),
            provider_arn: `arn:aws:iam::${OWN_ACCOUNT}:oidc-provider/auth.example.org`,
          },
          {
            account_id: OWN_ACCOUNT,
            account_name: 'team-a',
            team: 'team-a',
            role_name: 'ReadOnly',
            role_arn: roleArn(OWN_ACCOUNT, 'ReadOnly'),
            provider_arn: `arn:aws:iam::${OWN_ACCOUNT}:oidc-provider/auth.example.org`,
          },
        ]);
        // Not a member of team-b; team-c's account is disabled.
        expect(list.map((r) => r.account_id)).not.toContain(OTHER_ACCOUNT);
        expect(list.map((r) => r.account_id)).not.toContain(DISABLED_ACCOUNT);
      });

      it('gives nobody roles in accounts of teams they are not in', async () => {
        expect(await awsRolesOf('nobody', { ...deps(), roleMapping: [...deps().roleMapping] })).toEqual([]);
      });

      it('gives platform administrators the admins mapping in every enabled account', async () => {
        const list = await awsRolesOf(ADMIN.uid, { ...deps(), roleMapping: [...deps().roleMapping] });
        expect(list.map((r) => r.role_arn).sort()).toEqual(
          [roleArn(OTHER_ACCOUNT, 'Administrator'), roleArn(OWN_ACCOUNT, 'Administrator')].sort(),
        );
      });
    });

    describe('GET /aws/roles and POST /aws/web-identity-token', () => {
      it('refuses calls without a token with 401 problem+json, audited', async () => {
        expect((await roles()).statusCode).toBe(401);
        const before = (await events()).length;
        const refused = await webIdentityToken({ role_arn: roleArn(OWN_ACCOUNT, 'PowerUser') });
        expect(refused.statusCode).toBe(401);
        expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
        expect((await events()).length).toBe(before + 1);
      });

      it('lists the caller’s roles with the provider named after the issuer', async () => {
        const answer = await roles(jdoeToken);
        expect(answer.statusCode).toBe(200);
        const host = new URL(issuer()).host + new URL(issuer()).pathname.replace(/\/+$/, '');
        expect(answer.json()).toContainEqual(
          expect.objectContaining({
            role_arn: roleArn(OWN_ACCOUNT, 'PowerUser'),
            provider_arn: `arn:aws:iam::${OWN_ACCOUNT}:oidc-provider/${host}`,
          }),
        );
      });

      it('refuses a role not mapped to the caller with 403, audited as refused', async () => {
        const before = (await events()).length;
        const refused = await webIdentityToken({ role_arn: roleArn(OTHER_ACCOUNT, 'PowerUser') }, jdoeToken);
        expect(refused.statusCode).toBe(403);
        expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
        const after = await events();
        expect(after.length).toBe(before + 1);
        expect(after[0]).toMatchObject({ outcome: 'refused' });
      });

      it('answers bad input with 400 problem+json', async () => {
        for (const body of [
          {},
          { role_arn: 'not-an-arn' },
          { role_arn: roleArn(OWN_ACCOUNT, 'X'), extra: 1 },
        ]) {
          const answer = await webIdentityToken(body, jdoeToken);
          expect(answer.statusCode).toBe(400);
          expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
        }
      });

      it('issues a JWT that verifies against the JWKS, with aud, sub, exp and the team tags; audited without the token', async () => {
        const arn = roleArn(OWN_ACCOUNT, 'PowerUser');
        const answer = await webIdentityToken({ role_arn: arn }, jdoeToken);
        expect(answer.statusCode).toBe(200);
        const body = answer.json<{ web_identity_token: string; role_arn: string; expires: string }>();
        expect(body.role_arn).toBe(arn);
        const jwks = (await f.app.inject({ url: '/.well-known/jwks.json' })).json();
        const { payload, protectedHeader } = await jwtVerify(
          body.web_identity_token,
          createLocalJWKSet(jwks),
          {
            issuer: issuer(),
            audience: 'sts.amazonaws.com',
            subject: EMPLOYEE.uid,
            currentDate: new Date(f.clock.now()),
          },
        );
        expect(protectedHeader.alg).toBe('RS256');
        expect(payload.exp! - payload.iat!).toBe(300);
        expect(new Date(body.expires).getTime()).toBe(payload.exp! * 1000);
        expect(payload.amr).toEqual(['pwd']);
        expect(payload.jti).toEqual(expect.any(String));
        expect(payload[AWS_TAGS_CLAIM]).toMatchObject({ principal_tags: { team: ['team-a:team-c'] } });
        const [event] = await events();
        expect(event).toMatchObject({ outcome: 'success', actor: EMPLOYEE.uid });
        expect(JSON.stringify(event)).not.toContain(body.web_identity_token);
        expect(JSON.stringify(event)).toContain(OWN_ACCOUNT);
      });

      it('refuses service tokens with 403: only employees have AWS roles here', async () => {
        const serviceToken = (await passwordToken(f.app, { realm: '/services' })).access_token;
        expect((await roles(serviceToken)).statusCode).toBe(403);
        const refused = await webIdentityToken({ role_arn: roleArn(OWN_ACCOUNT, 'PowerUser') }, serviceToken);
        expect(refused.statusCode).toBe(403);
      });

      it('advertises aws_roles_endpoint in the discovery document', async () => {
        const discovery = (await f.app.inject({ url: '/.well-known/openid-configuration' })).json();
        expect(discovery.aws_roles_endpoint).toBe(`${issuer()}/aws/roles`);
      });

      it('refuses a role of an admin mapping to a non-admin, and issues it to an admin', async () => {
        const arn = roleArn(OTHER_ACCOUNT, 'Administrator');
        expect((await webIdentityToken({ role_arn: arn }, jdoeToken)).statusCode).toBe(403);
        expect((await webIdentityToken({ role_arn: arn }, adminToken)).statusCode).toBe(200);
      });
    });

    /*
     * End to end: the token from the endpoint goes to STS through Mai's assumeRole. moto_server does
     * NOT verify the JWT (signature, issuer, audience): it only checks the call; the claims and the
     * signature are verified with jose in the test above.
     */
    describe.skipIf(skipWithoutMoto())('end to end with moto_server STS', () => {
      let moto: RunningMoto;
      let arn: string;
      beforeAll(async () => {
        moto = await startMoto();
        const iam = new IAMClient(motoClientConfig(moto.endpoint));
        const provider = await iam.send(
          new CreateOpenIDConnectProviderCommand({
            Url: issuer(),
            ClientIDList: ['sts.amazonaws.com'],
            ThumbprintList: ['0'.repeat(40)],
          }),
        );
        arn = (
          await iam.send(
            new CreateRoleCommand({
              RoleName: 'PowerUser',
              AssumeRolePolicyDocument: JSON.stringify({
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { Federated: provider.OpenIDConnectProviderArn },
                    // TagSession: AWS refuses tokens carrying session tags without it.
                    Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'],
                  },
                ],
              }),
            }),
          )
        ).Role!.Arn!;
        iam.destroy();
      }, 60_000);
      afterAll(async () => {
        await moto?.stop();
      });

      it('turns the web-identity token into credentials of the assumed role', async () => {
        expect(arn).toBe(roleArn(OWN_ACCOUNT, 'PowerUser'));
        const answer = await webIdentityToken({ role_arn: arn }, jdoeToken);
        expect(answer.statusCode).toBe(200);
        const token = answer.json<{ web_identity_token: string }>().web_identity_token;
        expect(decodeJwt(token).sub).toBe(EMPLOYEE.uid);
        const credentials = await assumeRole(
          { region: MOTO_REGION, endpoint: moto.endpoint },
          { kind: 'web-identity', token, roleArn: arn, sessionName: EMPLOYEE.uid },
        );
        const sts = new STSClient({
          region: MOTO_REGION,
          endpoint: moto.endpoint,
          credentials,
        });
        const identity = await sts.send(new GetCallerIdentityCommand({}));
        sts.destroy();
        expect(identity.Arn).toBe(`arn:aws:sts::${OWN_ACCOUNT}:assumed-role/PowerUser/${EMPLOYEE.uid}`);
      });
    });
  },
);
