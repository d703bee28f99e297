import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Database } from '../../platform/db/database.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { createTestIssuer } from '../../platform/test-support/test-issuer.js';
import { type RunningMoto, skipWithoutMoto, startMoto } from '../../senza/test-support/moto.js';
import { createTeamService, type TeamService, teamMigrations } from '../../teams/index.js';
import type { AccountReport } from '../contract.js';
import { runSevenseconds } from '../test-support/run-sevenseconds.js';

const FILE = `version: 10
global:
  regions: [eu-west-1]
  admin_account: admin
  environment: production
accounts:
  admin:
    id: '400000000000'
    team: platform
  shop:
    id: '400000000001'
    team: shop-team
    environment: non-production
  orphan:
    id: '400000000002'
`;

/**
 * `configure` registers each account with its `team` in a real team service (in-process, on
 * PGlite, over HTTP with a real token); plan reads it only; a second run changes nothing.
 */
describe.skipIf(skipWithoutMoto())('sevenseconds registers accounts in the team service', () => {
  let moto: RunningMoto;
  let db: { database: Database; drop: () => Promise<void> };
  let service: TeamService;
  let app: HttpApp;
  let url: string;
  let auditLog: AuditLog;
  let adminToken: string;
  let userToken: string;

  beforeAll(async () => {
    moto = await startMoto();
    db = await openTestDatabase('pglite', [
      ...KERNEL_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
    ]);
    const issuer = await createTestIssuer();
    const ctx = createTestContext(db.database, issuer.verifier, { adminUids: ['admin'] });
    auditLog = ctx.auditLog;
    service = createTeamService(ctx);
    app = await service.createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    adminToken = await issuer.token({ uid: 'admin' });
    userToken = await issuer.token({ uid: 'jdoe' });
    await service.store.putTeam('platform', { name: 'Platform' });
    await service.store.putTeam('shop-team', { name: 'Shop' });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await moto?.stop();
  });

  const sevenseconds = (args: string[], env: Record<string, string> = {}, yaml = FILE) =>
    runSevenseconds(moto.endpoint, args, yaml, { SEVENSECONDS_TOKEN: adminToken, ...env });
  const teamChanges = (out: string) =>
    (JSON.parse(out) as AccountReport[])
      .flatMap((r) => r.changes)
      .filter((c) => c.resource === 'team-service/account');

  it('a file naming teams without a team service URL fails with one line before any AWS call', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'sevenseconds: accounts name a team, but no team service is set: --team-service-url or SEVENSECONDS_TEAM_SERVICE_URL\n',
    );
    expect(r.calls).toEqual([]);
  });

  it('plan shows each registration and writes nothing to the team service', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', '-o', 'json', '--team-service-url', url]);
    expect(r.code).toBe(0);
    expect(teamChanges(r.out)).toEqual([
      {
        account: 'admin',
        resource: 'team-service/account',
        action: 'create',
        detail: 'register with team platform',
      },
      {
        account: 'shop',
        resource: 'team-service/account',
        action: 'create',
        detail: 'register with team shop-team',
      },
    ]);
    expect(await service.store.listAccounts()).toEqual([]);
  }, 60_000);

  it('configure registers each account with its team, audited; a second run changes nothing', async () => {
    const r = await sevenseconds(['configure', 'accounts.yaml'], { SEVENSECONDS_TEAM_SERVICE_URL: url });
    expect(r.code).toBe(0);
    expect((await service.store.teamOfAccount('400000000000'))?.id).toBe('platform');
    expect((await service.store.teamOfAccount('400000000001'))?.id).toBe('shop-team');
    expect(await service.store.teamOfAccount('400000000002')).toBeUndefined();
    expect((await service.store.listAccounts()).map((a) => [a.id, a.owner, a.description])).toEqual([
      ['400000000000', 'platform', 'admin'],
      ['400000000001', 'shop-team', 'shop'],
    ]);
    const events = await auditLog.query({ service: 'teams', limit: 5 });
    expect(events.map((e) => [e.action, e.actor, e.outcome, e.target_id]).sort()).toEqual([
      ['teams.account.put', 'admin', 'success', '400000000000'],
      ['teams.account.put', 'admin', 'success', '400000000001'],
    ]);

    const again = await sevenseconds(['configure', 'accounts.yaml', '-o', 'json', '--team-service-url', url]);
    expect(again.code).toBe(0);
    expect(teamChanges(again.out)).toEqual([]);
    expect(await auditLog.query({ service: 'teams', limit: 5 })).toHaveLength(2);
  }, 60_000);

  it('a changed team is one update; the file wins over the team service', async () => {
    const moved = FILE.replace('team: shop-team', 'team: platform');
    const plan = await sevenseconds(
      ['plan', 'accounts.yaml', '-o', 'json', '--team-service-url', url],
      {},
      moved,
    );
    expect(teamChanges(plan.out)).toEqual([
      {
        account: 'shop',
        resource: 'team-service/account',
        action: 'update',
        detail: 'owner shop-team → platform',
      },
    ]);
    const r = await sevenseconds(
      ['configure', 'accounts.yaml', 'shop', '--team-service-url', url],
      {},
      moved,
    );
    expect(r.code).toBe(0);
    expect((await service.store.teamOfAccount('400000000001'))?.id).toBe('platform');
  }, 60_000);

  it('a team the service does not know, or a token not allowed to write, fails that account with one line', async () => {
    const unknown = FILE.replace('team: shop-team', 'team: nobody');
    const r = await sevenseconds(
      ['configure', 'accounts.yaml', 'shop', '--team-service-url', url],
      {},
      unknown,
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /shop +failed +team service: register 400000000001 for team nobody: .*team nobody does not exist/,
    );
    const refused = await sevenseconds(
      ['configure', 'accounts.yaml', 'shop', '--team-service-url', url],
      { SEVENSECONDS_TOKEN: userToken },
      FILE,
    );
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/shop +failed +team service: register 400000000001 for team shop-team: /);
    expect((await service.store.teamOfAccount('400000000001'))?.id).toBe('platform');
    const last = (await auditLog.query({ service: 'teams', limit: 1 }))[0]!;
    expect([last.action, last.actor, last.outcome]).toEqual(['teams.account.put', 'jdoe', 'refused']);
  }, 60_000);
});
