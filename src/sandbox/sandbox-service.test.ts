import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CreateVpcCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListTagsForResourceCommand, TagResourceCommand } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JobRunner } from '../platform/jobs/job-runner.js';
import { silentLogger } from '../platform/logger.js';
import { describeEachDatabase, openTestDatabase } from '../platform/test-support/databases.js';
import {
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../senza/test-support/moto.js';
import { folderReportBucket } from './reports/report-bucket.js';
import { CostFileSource } from './spend/cost-file.js';
import {
  createSandboxHarness,
  SANDBOX_TEST_MIGRATIONS,
  type SandboxHarness,
  seedOrganisation,
  type TestOrganisation,
} from './test-support/harness.js';

const skip = skipWithoutMoto();
const PROBLEM = /^application\/problem\+json/;

describe('sandbox with management off (no AWS configured)', () => {
  it('starts, says so, answers reads and refuses changes with 409 SANDBOX_OFF', async () => {
    const db = await openTestDatabase('pglite', SANDBOX_TEST_MIGRATIONS);
    const h = await createSandboxHarness(db.database);
    try {
      const status = await h.app.inject({ url: '/status', headers: h.headers.jdoe });
      expect(status.json()).toEqual({
        management: 'off',
        message: expect.stringMatching(/^sandbox management is off: set sandbox.enabled/),
      });
      expect((await h.app.inject({ url: '/accounts', headers: h.headers.jdoe })).json()).toEqual([]);
      const assign = await h.app.inject({
        method: 'POST',
        url: '/accounts/123456789012/assign',
        headers: h.headers.admin,
        payload: { holder: 'jdoe' },
      });
      expect(assign.statusCode).toBe(409);
      expect(assign.headers['content-type']).toMatch(PROBLEM);
      expect(assign.json().code).toBe('SANDBOX_OFF');
      // No job would find anything to do: the daily check has no cost file.
      expect(await h.sandbox.service.checkSpend()).toEqual({ accounts: 0, exceptions: [] });
    } finally {
      await h.close();
      await db.drop();
    }
  });
});

describe.skipIf(skip)('sandbox service on moto_server', () => {
  let moto: RunningMoto;
  beforeAll(async () => {
    // The SDK's default credential chain, as in production; moto accepts any key.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    moto = await startMoto();
  }, 60_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  describeEachDatabase('accounts API', SANDBOX_TEST_MIGRATIONS, (getDatabase) => {
    let h: SandboxHarness;
    let org: TestOrganisation;
    let now = new Date('2026-11-27T12:00:00Z'); // a Friday, before the default window (18:00 UTC)
    let webhook: Server;
    let reportsDir: string | undefined;
    const received: unknown[] = [];
    // The cost file as the daily check finds it; each test writes what it needs.
    let costLines: string[] = ['lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UnblendedCost'];
    const costs = {
      dailyCosts: (from: string, to: string) =>
        new CostFileSource(() => Readable.from([costLines.join('\n')])).dailyCosts(from, to),
    };
    const post = (url: string, headers: Record<string, string>, payload?: object) =>
      h.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
    const get = (url: string, headers = h.headers.jdoe) => h.app.inject({ url, headers });
    const auditOf = async (action: string) =>
      h.ctx.auditLog.query({ service: 'sandbox', action, limit: 100 });

    beforeAll(async () => {
      org = await seedOrganisation(moto.endpoint);
      webhook = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          received.push(JSON.parse(body));
          response.end();
        });
      });
      await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
      const address = webhook.address();
      if (address === null || typeof address === 'string') throw new Error('webhook not listening');
      reportsDir = await mkdtemp(join(tmpdir(), 'sandbox-reports-'));
      h = await createSandboxHarness(getDatabase(), {
        motoEndpoint: moto.endpoint,
        now: () => now,
        costs,
        reports: folderReportBucket(reportsDir),
        settings: { incidentWebhook: `http://127.0.0.1:${address.port}/hook` },
      });
      await h.sandbox.service.sync();
    }, 60_000);
    afterAll(async () => {
      await h?.close();
      webhook?.close();
      if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
    });

    it('mirrors the 10 accounts with OU, state, holder and cost centre; filters; CreatedAccount events', async () => {
      const all = (await get('/accounts')).json();
      expect(all).toHaveLength(10);
      expect(
        (await get('/accounts?state=released'))
          .json()
          .map((a: { id: string }) => a.id)
          .sort(),
      ).toEqual(org.accountIds.slice(0, 3).sort());
      expect((await get('/accounts?ou=engineering')).json()).toHaveLength(5);
      expect((await get(`/accounts?ou=${org.ous.data}`)).json()).toHaveLength(5);
      const bobs = (await get('/accounts?holder=bob')).json();
      expect(bobs.map((a: { id: string }) => a.id).sort()).toEqual(org.accountIds.slice(4, 6).sort());
      const first = (await get(`/accounts/${org.accountIds[0]}`)).json();
      expect(first).toMatchObject({
        id: org.accountIds[0],
        name: 'sandbox-0',
        organizational_unit_name: 'engineering',
        state: 'released',
        cost_center: 'cc-100',
        budget_amount: 500,
        month_to_date: null,
        last_purge: null,
      });
      const events = (await get(`/accounts/${org.accountIds[0]}/events`)).json();
      expect(events.map((e: { kind: string }) => e.kind)).toEqual(['CreatedAccount']);
      expect(await auditOf('sandbox.account.discover')).toHaveLength(10);
      // A second sync finds nothing new.
      expect((await h.sandbox.service.sync()).discovered).toEqual([]);
    });

    it('answers bad input with problem+json 4xx', async () => {
      const bad = await get('/accounts/12');
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-type']).toMatch(PROBLEM);
      expect((await get('/accounts?state=lost')).statusCode).toBe(400);
      const unknown = await get('/accounts/999999999999');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().detail).toBe('account 999999999999 is not a sandbox account');
      expect((await get('/accounts')).statusCode).toBe(200);
      expect((await h.app.inject({ url: '/accounts' })).statusCode).toBe(401);
      const badBody = await post(`/accounts/${org.accountIds[6]}/assign`, h.headers.admin, {
        holder: 'Not A Uid',
      });
      expect(badBody.statusCode).toBe(400);
      expect(
        (await post(`/accounts/${org.accountIds[6]}/purge?dry_run=maybe`, h.headers.admin)).statusCode,
      ).toBe(400);
    });

    it('assigns to platform users only, by the one permission rule, writing the tags and auditing', async () => {
      const vanilla = org.accountIds[6]!;
      const unknown = await post(`/accounts/${vanilla}/assign`, h.headers.admin, { holder: 'nobody' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json()).toMatchObject({
        code: 'UNKNOWN_USER',
        detail: 'nobody is not an enabled platform user',
      });
      expect(
        (await post(`/accounts/${vanilla}/assign`, h.headers.admin, { holder: 'gone' })).statusCode,
      ).toBe(400);

      // bob may not give an account to someone else; the refusal is audited.
      const refused = await post(`/accounts/${vanilla}/assign`, h.headers.bob, { holder: 'ann' });
      expect(refused.statusCode).toBe(403);
      expect(await auditOf('sandbox.account.assign')).toEqual([
        expect.objectContaining({ outcome: 'refused', actor: 'bob', target_id: vanilla }),
      ]);
      // jdoe already holds account 3: taking a second one is a conflict.
      const second = await post(`/accounts/${vanilla}/assign`, h.headers.jdoe, { holder: 'jdoe' });
      expect(second.statusCode).toBe(409);
      expect(second.json().code).toBe('ALREADY_HOLDS');

      // ann takes a free account for herself.
      const taken = await post(`/accounts/${vanilla}/assign`, h.headers.ann, { holder: 'ann' });
      expect(taken.statusCode).toBe(200);
      expect(taken.json()).toMatchObject({ id: vanilla, state: 'assigned', holder: 'ann' });
      const tags = await h.aws!.org.send(new ListTagsForResourceCommand({ ResourceId: vanilla }));
      const tagMap = Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tagMap).toMatchObject({ 'account-state': 'assigned', 'account-holder': 'ann' });
      const events = (await get(`/accounts/${vanilla}/events`)).json();
      expect(events[0]).toMatchObject({
        kind: 'AssignedAccount',
        details: { from: 'vanilla', holder: 'ann' },
      });
      expect(await auditOf('sandbox.account.assign')).toContainEqual(
        expect.objectContaining({ outcome: 'success', actor: 'ann', target_id: vanilla }),
      );

      // An assigned account cannot be assigned again (409), not even by an administrator.
      const again = await post(`/accounts/${vanilla}/assign`, h.headers.admin, { holder: 'bob' });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'TRANSITION_REFUSED' });
      // Administrators give accounts to anyone.
      const given = await post(`/accounts/${org.accountIds[7]}/assign`, h.headers.admin, { holder: 'jdoe' });
      expect(given.json()).toMatchObject({ state: 'assigned', holder: 'jdoe' });
    });

    it('releases: the holder or an administrator', async () => {
      const annS = org.accountIds[6]!;
      const refused = await post(`/accounts/${annS}/release`, h.headers.bob);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('NOT_HOLDER');
      const released = await post(`/accounts/${annS}/release`, h.headers.ann);
      expect(released.statusCode).toBe(200);
      expect(released.json()).toMatchObject({ state: 'released', holder: null });
      expect((await post(`/accounts/${annS}/release`, h.headers.admin)).statusCode).toBe(409);
      expect((await post(`/accounts/${org.accountIds[7]}/release`, h.headers.admin)).json()).toMatchObject({
        state: 'released',
      });
    });

    it('a dry-run purge lists what would go and changes nothing; deleting is off by default', async () => {
      const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }))).Vpc!.VpcId!;
      const id = org.accountIds[3]!; // jdoe's
      expect((await post(`/accounts/${id}/purge`, h.headers.bob)).statusCode).toBe(403);
      const dry = await post(`/accounts/${id}/purge`, h.headers.jdoe);
      expect(dry.statusCode).toBe(200);
      expect(dry.json()).toMatchObject({ account_id: id, dry_run: true, errors: [] });
      expect(dry.json().deleted).toContainEqual({ kind: 'ec2:vpc', id: vpc, region: 'eu-west-1' });
      expect((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc] }))).Vpcs).toHaveLength(1);
      expect((await get(`/accounts/${id}`)).json().state).toBe('assigned');
      const force = await post(`/accounts/${id}/purge?dry_run=false`, h.headers.admin);
      expect(force.statusCode).toBe(409);
      expect(force.json().code).toBe('FORCE_PURGE_OFF');
      expect((await post(`/accounts/${id}/purge?dry_run=false`, h.headers.jdoe)).statusCode).toBe(403);
      ec2.destroy();
    });

    it('the maintenance job moves released accounts through a window, once across two replicas', async () => {
      const ticks = { clock: () => now.getTime() };
      const job = {
        name: 'sandbox.maintenance',
        intervalMs: 60_000,
        run: async () => {
          await h.sandbox.service.maintain();
        },
      };
      const replicas = [
        new JobRunner(getDatabase(), silentLogger(), ticks),
        new JobRunner(getDatabase(), silentLogger(), ticks),
      ];
      // Before the window: nothing happens (and the mark is set).
      expect(await replicas[0]!.runOnce(job)).toBe('ran');
      expect((await get('/accounts?state=released')).json()).toHaveLength(5);
      now = new Date('2026-11-27T18:00:30Z');
      const outcomes = await Promise.all(replicas.map((r) => r.runOnce(job)));
      expect(outcomes.sort()).toEqual(['ran', 'skipped']);
      const released = [...org.accountIds.slice(0, 3), org.accountIds[6]!, org.accountIds[7]!];
      for (const id of released) {
        const kinds = (await get(`/accounts/${id}/events`)).json().map((e: { kind: string }) => e.kind);
        expect(kinds.slice(0, 4), id).toEqual([
          'ReleasedAccount',
          'PreparedAccount',
          'PurgedAccount',
          'ExpiredAccount',
        ]);
      }
      const account = (await get(`/accounts/${released[0]}`)).json();
      expect(account).toMatchObject({ state: 'released', last_purge: now.toISOString() });
      expect(account.state_timestamps.prepared).toBe(now.toISOString());
      expect(await auditOf('sandbox.account.transition')).toHaveLength(4 * released.length);
      const budgets = await h.aws!.budgets.send(new DescribeBudgetsCommand({ AccountId: released[0] }));
      expect(budgets.Budgets?.map((b) => [b.BudgetName, b.BudgetLimit?.Amount])).toEqual([
        ['sandbox-monthly', '500'],
      ]);
      // The same tick again on either replica: already taken.
      expect(await replicas[1]!.runOnce(job)).toBe('skipped');
    }, 60_000);

    it('an administrator purges an expired account when the installation allows it', async () => {
      const forcing = await createSandboxHarness(getDatabase(), {
        motoEndpoint: moto.endpoint,
        now: () => now,
        settings: { allowForcePurge: true },
      });
      try {
        const id = org.accountIds[8]!;
        await forcing.aws!.org.send(
          new TagResourceCommand({ ResourceId: id, Tags: [{ Key: 'account-state', Value: 'expired' }] }),
        );
        await forcing.sandbox.service.sync();
        const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
        const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }))).Vpc!.VpcId!;
        const purged = await forcing.app.inject({
          method: 'POST',
          url: `/accounts/${id}/purge?dry_run=false`,
          headers: forcing.headers.admin,
        });
        expect(purged.statusCode).toBe(200);
        expect(purged.json()).toMatchObject({ dry_run: false, errors: [] });
        expect(purged.json().deleted).toContainEqual({ kind: 'ec2:vpc', id: vpc, region: 'eu-west-1' });
        const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
        expect(vpcs.filter((v) => !v.IsDefault)).toEqual([]);
        ec2.destroy();
        expect((await get(`/accounts/${id}`)).json()).toMatchObject({
          state: 'purged',
          last_purge: now.toISOString(),
        });
        // Purged is not expired: a second purge is refused.
        const again = await forcing.app.inject({
          method: 'POST',
          url: `/accounts/${id}/purge?dry_run=false`,
          headers: forcing.headers.admin,
        });
        expect(again.json().code).toBe('TRANSITION_REFUSED');
      } finally {
        await forcing.close();
      }
    }, 60_000);

    it('the daily spend check keeps month-to-date spend and turns alarms into incidents and webhook calls', async () => {
      const [quiet, spiky] = [org.accountIds[4]!, org.accountIds[5]!];
      costLines = [
        'lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode',
      ];
      for (let day = 1; day <= 27; day++) {
        const date = `2026-11-${String(day).padStart(2, '0')}T00:00:00Z`;
        costLines.push(`${quiet},${date},2.00,USD`, `${spiky},${date},3.00,USD`);
      }
      // 400 on top of the usual 3 on the 27th: unusual, and across 80 % of the 500 budget.
      costLines.push(`${spiky},2026-11-27T10:00:00Z,400.00,USD`);
      now = new Date('2026-11-28T06:00:00Z');
      const result = await h.sandbox.service.checkSpend();
      expect(result.accounts).toBe(10);
      expect(result.exceptions.map((e) => `${e.accountId} ${e.kind}`).sort()).toEqual(
        [`${spiky} budget-threshold`, `${spiky} unusual-daily-spend`].sort(),
      );
      expect((await get(`/accounts/${quiet}`)).json().month_to_date).toBeCloseTo(54);
      expect((await get(`/accounts/${spiky}`)).json().month_to_date).toBeCloseTo(481);
      const incidents = (await get('/incidents')).json();
      expect(incidents.map((i: { kind: string }) => i.kind)).toEqual([
        'BudgetAlertException',
        'BudgetAlertException',
      ]);
      expect(incidents[0]).toMatchObject({ account_id: spiky, details: { day: '2026-11-27' } });
      expect((await get(`/incidents?account_id=${quiet}`)).json()).toEqual([]);
      expect(received).toHaveLength(2);
      expect(received).toContainEqual(
        expect.objectContaining({ accountId: spiky, kind: 'unusual-daily-spend', amount: 403 }),
      );
      expect(await auditOf('sandbox.incident.record')).toHaveLength(2);
      // A second run on the same day raises nothing new.
      expect((await h.sandbox.service.checkSpend()).exceptions).toEqual([]);
      expect((await get('/incidents')).json()).toHaveLength(2);
    });

    it('the reports job writes the weekly inventory once a week and last month’s activity and cost once a month', async () => {
      // After the spend test: its November costs are the cost file now.
      now = new Date('2026-12-02T08:00:00Z'); // a Wednesday
      const first = await h.sandbox.service.produceReports();
      expect(first.written.sort()).toEqual(
        [
          'reports/inventory/2026-12-02/accounts.csv',
          'reports/inventory/2026-12-02/summary.csv',
          'reports/inventory/2026-12-02/inventory.xlsx',
          'reports/activity/2026-11/events.csv',
          'reports/activity/2026-11/summary.csv',
          'reports/activity/2026-11/activity.xlsx',
          ...first.written.filter((k) => k.startsWith('reports/cost/2026-11/')),
        ].sort(),
      );
      expect(first.written.some((k) => k.startsWith('reports/cost/2026-11/'))).toBe(true);
      const inventory = await readFile(
        join(reportsDir!, 'reports/inventory/2026-12-02/accounts.csv'),
        'utf8',
      );
      // A header and one line per account (plain names: no quoted line breaks).
      expect(inventory.trim().split('\n')).toHaveLength(11);
      const costCsv = first.written.find((k) => k.startsWith('reports/cost/2026-11/') && k.endsWith('.csv'))!;
      // 27 days of 2.00 + 3.00, and the 400 spike: 135 + 400 in November.
      expect(await readFile(join(reportsDir!, costCsv), 'utf8')).toContain('535');
      expect(await auditOf('sandbox.report.write')).toHaveLength(2);

      // Later the same week: nothing is due.
      now = new Date('2026-12-04T08:00:00Z');
      expect((await h.sandbox.service.produceReports()).written).toEqual([]);
      // The next Monday: the weekly inventory again, not the monthly reports.
      now = new Date('2026-12-07T00:30:00Z');
      const monday = await h.sandbox.service.produceReports();
      expect(monday.written.every((k) => k.startsWith('reports/inventory/2026-12-07/'))).toBe(true);
      expect(monday.written).toHaveLength(3);
    });
  });
});
