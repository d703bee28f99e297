import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../platform/auth/token-verifier.js';
import { runCli } from '../../platform/cli/run-cli.js';
import { type Database, openDatabase } from '../../platform/db/database.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { captureIo, type CapturedIo } from '../../platform/test-support/cli-io.js';
import { createTestContext } from '../../platform/test-support/service-context.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import { freePorts } from '../../stups/free-ports.js';
import { teamMigrations } from '../../teams/migrations.js';
import { TeamStore } from '../../teams/store.js';
import { createTokenService } from '../../token-service/index.js';
import { TOKEN_SERVICE_TEST_MIGRATIONS } from '../../token-service/test-support.js';
import { UserStore } from '../../users/store.js';
import { zignProgram } from '../../zign/cli/main.js';
import { runMai } from './main.js';

const PASSWORDS: Record<string, string> = { jdoe: 'jdoe-password-1', mate: 'mate-password-1' };
/** team-r's account needs a reason (`reasonRequiredAccounts`), not an approval. */
const REASON_ACCOUNT = '210987654321';

/**
 * Issue 19, mai's side of the second approver, on real parts: the token service (PGlite) on
 * loopback, Zign logins, moto_server as STS (moto does not verify the web-identity token; the
 * token service's tests do).
 */
describe.skipIf(skipWithoutMoto())('mai with a role that needs a second approver', () => {
  let database: Database;
  let app: HttpApp;
  let baseUrl: string;
  let moto: RunningMoto;
  let auditLog: ReturnType<typeof createTestContext>['auditLog'];
  const homes: CapturedIo[] = [];

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, [
      ...TOKEN_SERVICE_TEST_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
    ]);
    const teams = new TeamStore(database);
    await teams.putTeam('team-a', {
      name: 'Team A',
      members: ['jdoe', 'mate'],
      aws_accounts: [MOTO_ACCOUNT],
    });
    await teams.putTeam('team-r', { name: 'Team R', members: ['jdoe'], aws_accounts: [REASON_ACCOUNT] });
    const users = new UserStore(database);
    for (const [uid, password] of Object.entries(PASSWORDS))
      await users.putUser(uid, { name: uid, email: `${uid}@example.org`, password });
    const [port] = await freePorts(1);
    baseUrl = `http://127.0.0.1:${port}`;
    const verifier = new TokenVerifier({ issuers: [] });
    const base = createTestContext(database, verifier);
    auditLog = base.auditLog;
    const service = createTokenService(
      { ...base, urls: { ...base.urls, 'token-service': baseUrl } },
      {
        users,
        awsAccounts: teams,
        config: {
          aws: {
            roleMapping: [{ who: 'members', role: 'PowerUser', accounts: 'team' }],
            secondApprover: { accounts: ['team-a'] },
            saml: { reasonRequiredAccounts: ['team-r'] },
          },
        },
      },
    );
    verifier.trust(service.trustedIssuer);
    app = await service.createApp();
    await app.listen({ host: '127.0.0.1', port: port! });
    moto = await startMoto();
    const iam = new IAMClient(motoClientConfig(moto.endpoint));
    const provider = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: baseUrl,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['0'.repeat(40)],
      }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'PowerUser',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: provider.OpenIDConnectProviderArn },
              Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'],
            },
          ],
        }),
      }),
    );
    iam.destroy();
  }, 90_000);

  afterAll(async () => {
    for (const io of homes) await io.cleanup();
    await moto?.stop();
    await app?.close();
    await database?.destroy();
  });

  async function home(uid: string): Promise<NodeJS.ProcessEnv> {
    const io = await captureIo({
      env: {
        ZIGN_URL: baseUrl,
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_REGION: MOTO_REGION,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdin: `${PASSWORDS[uid]}\n`,
    });
    homes.push(io);
    expect(await runCli(zignProgram({ io }), ['login', '-U', uid, '--password-stdin'], io)).toBe(0);
    return io.env;
  }
  async function mai(env: NodeJS.ProcessEnv, args: string[]) {
    const io = await captureIo({ env });
    const code = await runMai(args, { io });
    await io.cleanup();
    return { code, out: io.out(), err: io.err() };
  }

  it('login says an approval is needed; --reason asks; a team mate approves; then login succeeds', async () => {
    const jdoe = await home('jdoe');
    const mate = await home('mate');
    expect((await mai(jdoe, ['create', 'prod', '--account', 'team-a', '--role', 'PowerUser'])).code).toBe(0);

    const refused = await mai(jdoe, ['login', 'prod']);
    expect(refused).toMatchObject({
      code: 1,
      err: `mai: AWS Account ${MOTO_ACCOUNT} (team-a): PowerUser needs a second approver: run "mai login prod --reason TEXT" to ask for it\n`,
    });

    const asked = await mai(jdoe, ['login', 'prod', '--reason', 'hotfix INC-42']);
    expect(asked.code).toBe(1);
    const id = /access request ([0-9a-f-]{36}) is pending/.exec(asked.err)?.[1];
    expect(id, asked.err).toBeDefined();
    expect(asked.err).toBe(
      `mai: AWS Account ${MOTO_ACCOUNT} (team-a): PowerUser needs a second approver: access request ${id} is pending; a member of team team-a or a platform administrator approves it with "mai approve ${id}"\n`,
    );
    // Asking again (mai request) names the same pending request.
    const again = await mai(jdoe, ['request', 'prod', '--reason', 'still']);
    expect(again.out).toContain(`access request ${id} is pending`);

    // The requester may not approve; the team mate sees it (abbreviated command) and approves.
    const own = await mai(jdoe, ['approve', id!]);
    expect(own.code).toBe(1);
    expect(own.err).toMatch(/^mai: the token service answered 403: nobody decides their own access request/);
    const listed = JSON.parse((await mai(mate, ['requests', '--state', 'pending', '-o', 'json'])).out);
    expect(listed).toEqual([expect.objectContaining({ id, requester: 'jdoe', reason: 'hotfix INC-42' })]);
    const approved = await mai(mate, ['appr', id!, '--comment', 'go']);
    expect(approved).toMatchObject({ code: 0, err: '' });
    expect(approved.out).toMatch(
      new RegExp(`^Access request ${id} of jdoe \\(PowerUser in ${MOTO_ACCOUNT}\\): approved until `),
    );

    const login = await mai(jdoe, ['login', 'prod']);
    expect(login).toMatchObject({ code: 0, err: '' });
    expect(login.out).toContain('credentials for [default]');
  }, 60_000);

  it('sends --reason on the web-identity and SAML paths for a reasonRequiredAccounts account, and says which flag is missing', async () => {
    const jdoe = await home('jdoe');
    expect((await mai(jdoe, ['create', 'r', '--account', 'team-r'])).code).toBe(0);
    const samlRole = [
      `arn:aws:iam::${REASON_ACCOUNT}:saml-provider/stups`,
      `arn:aws:iam::${REASON_ACCOUNT}:role/PowerUser`,
      'team-r',
    ];
    await appendFile(
      join(jdoe.HOME!, '.config', 'mai', 'mai.yaml'),
      `r-saml:\n  saml_identity_provider_url: ${baseUrl}\n  saml_role: ${JSON.stringify(samlRole)}\n`,
    );
    const needs = (command: string) =>
      `mai: account ${REASON_ACCOUNT} (team-r) requires a reason for access: run "${command} --reason TEXT"\n`;
    expect(await mai(jdoe, ['login', 'r'])).toMatchObject({ code: 1, err: needs('mai login r') });
    expect(await mai(jdoe, ['login', 'r-saml'])).toMatchObject({ code: 1, err: needs('mai login r-saml') });
    expect(await mai(jdoe, ['credential-process', 'r'])).toMatchObject({
      code: 1,
      err: needs('mai credential-process r'),
    });
    expect(await mai(jdoe, ['exec', 'r-saml', '--', 'true'])).toMatchObject({
      code: 1,
      err: needs('mai exec r-saml'),
    });

    const web = await mai(jdoe, ['login', 'r', '--reason', 'INC-7 web']);
    expect(web).toMatchObject({ code: 0, err: '' });
    const saml = await mai(jdoe, ['credential-process', 'r-saml', '--reason', 'INC-7 saml']);
    expect(saml).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(saml.out)).toMatchObject({ Version: 1 });
    const required = await mai(jdoe, ['require', 'r-saml', '--reason', 'INC-7 require']);
    expect(required).toMatchObject({ code: 0, err: '' });

    // The token service audited each issue with its reason, and the refusals as refused.
    const reasons = async (action: string) =>
      (await auditLog.query({ service: 'token-service', action, limit: 100 }))
        .filter((e) => e.outcome === 'success')
        .map((e) => (e.details as { reason?: string }).reason);
    expect(await reasons('token-service.aws.web_identity_token')).toContain('INC-7 web');
    expect(await reasons('token-service.aws.saml_assertion')).toEqual(
      expect.arrayContaining(['INC-7 saml', 'INC-7 require']),
    );
  }, 60_000);
});
