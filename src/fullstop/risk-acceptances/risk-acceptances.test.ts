import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobRunner, jobMigrations, ManualScheduler } from '../../platform/jobs/index.js';
import { silentLogger } from '../../platform/logger.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import type { ImageCatalog } from '../aws/images.js';
import { FolderSource } from '../ingestion.js';
import * as records from '../test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from '../test-support/fullstop-harness.js';

// Only rules that look no image up run here (logins, security groups).
const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('no RunInstances events in these tests')),
};

const DAY = 86_400_000;
const SG = 'SECURITY_GROUP_OPEN_TO_THE_WORLD';
const in30Days = () => new Date(Date.now() + 30 * DAY).toISOString();

interface WireViolation {
  id: number;
  account_id: string;
  rule_id: number | null;
  comment: string | null;
  violation_type: { id: string };
  meta_info: { rules?: Array<{ from_port: number }> } | null;
}

// The job runner's tick table: expiry is tested through the runner, as the platform runs it.
const MIGRATIONS = [...FULLSTOP_TEST_MIGRATIONS, { component: 'jobs', migrations: jobMigrations }];

describeEachDatabase('risk acceptances', MIGRATIONS, (getDatabase) => {
  let h: FullstopHarness;
  let root: string;
  let source: FolderSource;
  let jdoe: Headers;
  let bob: Headers;
  let admin: Headers;
  let files = 0;

  const violations = async (query: string): Promise<WireViolation[]> => {
    const r = await h.app.inject({ url: `/api/violations?size=1000&${query}`, headers: jdoe });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().content;
  };
  const sshViolations = async (checked: boolean) =>
    (await violations(`accounts=${ACCOUNT_A}&type=${SG}&checked=${checked}`)).filter((v) =>
      v.meta_info?.rules?.some((rule) => rule.from_port === 22),
    );
  const post = (url: string, payload: unknown, headers: Headers = jdoe) =>
    h.app.inject({ method: 'POST', url, payload: payload as object, headers });
  const ingest = async (account: string, trail: records.Record[]) => {
    await records.writeCloudTrailFile(
      root,
      {
        account,
        region: 'eu-west-1',
        day: '2026-11-27',
        name: `20261127T10${String(files++).padStart(2, '0')}Z_x`,
      },
      trail,
    );
    const run = await h.fullstop.ingestion.ingestPending(source, 100);
    expect(run.failed).toEqual([]);
    return run;
  };
  const sshCriteria = { types: [SG], meta_info: '$.rules[?(@.from_port == 22)]' };

  beforeAll(async () => {
    h = await createFullstopHarness(getDatabase(), noImages);
    jdoe = await h.as('jdoe');
    bob = await h.as('bob');
    admin = await h.as('admin');
    root = await mkdtemp(join(tmpdir(), 'fullstop-accept-'));
    source = new FolderSource(root);
    await ingest(ACCOUNT_A, [
      records.authorizeIngress({ from: 22, to: 22, cidr: '0.0.0.0/0' }),
      records.authorizeIngress({ from: 22, to: 22, cidr: '0.0.0.0/0', region: 'eu-central-1' }),
      records.authorizeIngress({ from: 8080, to: 8080, cidr: '0.0.0.0/0' }),
      records.consoleLogin({ type: 'IAMUser' }),
    ]);
    await ingest(ACCOUNT_B, [
      records.authorizeIngress({ from: 22, to: 22, cidr: '0.0.0.0/0', account: ACCOUNT_B }),
    ]);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('dry run counts and samples what an acceptance would cover, and stores nothing', async () => {
    const before = await violations(`accounts=${ACCOUNT_A},${ACCOUNT_B}`);
    const r = await post('/api/risk-acceptances/dry-run', { criteria: sshCriteria, team: 'team-a' });
    expect(r.statusCode, r.body).toBe(200);
    const result = r.json();
    // team-a's two SSH openings; team-b's is not team-a's to accept.
    expect(result.matching).toBe(2);
    expect(result.sample.map((v: WireViolation) => [v.account_id, v.violation_type.id])).toEqual([
      [ACCOUNT_A, SG],
      [ACCOUNT_A, SG],
    ]);
    // A filter at the root selects meta_info itself.
    const byRoot = await post('/api/risk-acceptances/dry-run', {
      criteria: { meta_info: '$[?(@.group_id == "sg-0123456789abcdef0")]' },
      team: 'team-a',
    });
    expect(byRoot.json().matching).toBe(3);
    const all = await h.app.inject({ url: '/api/risk-acceptances?status=all', headers: jdoe });
    expect(all.json()).toEqual([]);
    expect(await violations(`accounts=${ACCOUNT_A},${ACCOUNT_B}`)).toEqual(before);
    const events = await h.ctx.auditLog.query({
      service: 'fullstop',
      targetType: 'risk_acceptance',
      limit: 10,
    });
    expect(events).toEqual([]);
  });

  it('answers 400 problems naming the field for bad criteria, reasons and expiry dates', async () => {
    const base = { criteria: sshCriteria, reason: 'bastion host', team: 'team-a', expires: in30Days() };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, criteria: { image_name: '^pierone(' } }, /criteria\.image_name/],
      [{ ...base, criteria: { meta_info: '$[?(@.port == 443' } }, /criteria\.meta_info/],
      [{ ...base, criteria: {} }, /criteria/],
      [{ ...base, criteria: { types: ['NO_SUCH_TYPE'] } }, /criteria\.types/],
      [{ ...base, reason: '  ' }, /reason/],
      [{ ...base, expires: new Date(Date.now() - DAY).toISOString() }, /expires must be in the future/],
      [{ ...base, expires: new Date(Date.now() + 366 * DAY).toISOString() }, /at most 365 days/],
      [{ ...base, expires: undefined }, /expires/],
    ];
    for (const [payload, message] of cases) {
      const r = await post('/api/risk-acceptances', payload);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatch(message);
    }
    // The problem's `errors` point at the field, as validation errors do.
    const regex = await post('/api/risk-acceptances', { ...base, criteria: { image_name: '(' } });
    expect(regex.json().errors).toEqual([expect.objectContaining({ path: ['criteria', 'image_name'] })]);
    const path = await post('/api/risk-acceptances/dry-run', {
      criteria: { meta_info: '$[?(' },
      team: 'team-a',
    });
    expect(path.statusCode).toBe(400);
    expect(path.json().errors).toEqual([expect.objectContaining({ path: ['criteria', 'meta_info'] })]);
    expect((await h.app.inject({ url: '/api/risk-acceptances?status=all', headers: jdoe })).json()).toEqual(
      [],
    );
  });

  it('refuses another team’s members and other teams’ accounts with 403, audited', async () => {
    const body = { criteria: sshCriteria, reason: 'not mine', team: 'team-a', expires: in30Days() };
    const r = await post('/api/risk-acceptances', body, bob);
    expect(r.statusCode).toBe(403);
    const foreign = await post('/api/risk-acceptances', {
      ...body,
      criteria: { accounts: [ACCOUNT_B] },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().detail).toMatch(/not an account of team team-a/);
    const refusals = await h.ctx.auditLog.query({
      service: 'fullstop',
      action: 'fullstop.risk_acceptance.create',
      limit: 10,
    });
    expect(refusals.map((e) => [e.actor, e.outcome])).toEqual([
      ['jdoe', 'refused'],
      ['bob', 'refused'],
    ]);
  });

  let accepted: number;

  it('applies retroactively: the matching open violations are covered and count as checked', async () => {
    const r = await post('/api/risk-acceptances', {
      criteria: sshCriteria,
      reason: 'bastion hosts, replaced by SSM in Q1',
      team: 'team-a',
      expires: in30Days(),
    });
    expect(r.statusCode, r.body).toBe(201);
    const acceptance = r.json();
    accepted = acceptance.id;
    expect(r.headers.location).toBe(`/api/risk-acceptances/${accepted}`);
    expect(acceptance).toMatchObject({
      team: 'team-a',
      created_by: 'jdoe',
      status: 'active',
      expired_at: null,
      expired_by: null,
      covered_violations: 2,
    });
    expect(await sshViolations(false)).toEqual([]);
    const covered = await sshViolations(true);
    expect(covered.map((v) => v.rule_id)).toEqual([accepted, accepted]);
    // Others stay open: port 8080 in team-a, the SSH opening of team-b.
    expect((await violations(`accounts=${ACCOUNT_A}&type=${SG}`)).map((v) => v.rule_id)).toEqual([null]);
    expect((await violations(`accounts=${ACCOUNT_B}`)).map((v) => v.rule_id)).toEqual([null]);
    const [event] = await h.ctx.auditLog.query({
      service: 'fullstop',
      action: 'fullstop.risk_acceptance.create',
      targetId: String(accepted),
      limit: 1,
    });
    expect(event).toMatchObject({
      actor: 'jdoe',
      outcome: 'success',
      details: { covered: 2, team: 'team-a' },
    });
    const one = await h.app.inject({ url: `/api/risk-acceptances/${accepted}`, headers: bob });
    expect(one.json()).toEqual(acceptance);
  });

  it('stores a violation found under an active acceptance covered; replaying twice adds nothing', async () => {
    const run = await ingest(ACCOUNT_A, [records.authorizeIngress({ from: 22, to: 22, cidr: '::/0' })]);
    expect(run.files.map((f) => f.violations)).toEqual([1]);
    expect(await sshViolations(false)).toEqual([]);
    expect((await sshViolations(true)).map((v) => v.rule_id)).toEqual([accepted, accepted, accepted]);
    const total = (await violations(`accounts=${ACCOUNT_A},${ACCOUNT_B}&checked=false`)).length;
    for (let i = 0; i < 2; i++) {
      const replay = await h.fullstop.ingestion.ingestPending(
        new FolderSource(i === 0 ? root : join(root, '.')),
        100,
      );
      expect(replay.files.every((f) => f.violations === 0)).toBe(true);
    }
    expect((await violations(`accounts=${ACCOUNT_A},${ACCOUNT_B}&checked=false`)).length).toBe(total);
    expect(await sshViolations(true)).toHaveLength(3);
    const one = await h.app.inject({ url: `/api/risk-acceptances/${accepted}`, headers: jdoe });
    expect(one.json().covered_violations).toBe(3);
  });

  it('is immutable: PUT, PATCH and DELETE answer 405', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      const r = await h.app.inject({
        method,
        url: `/api/risk-acceptances/${accepted}`,
        headers: jdoe,
        payload: { reason: 'changed' },
      });
      expect(r.statusCode, method).toBe(405);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(
      (await h.app.inject({ url: `/api/risk-acceptances/${accepted}`, headers: jdoe })).json().reason,
    ).toBe('bastion hosts, replaced by SSM in Q1');
  });

  it('expires through the job, once across replicas: its violations are open again unless resolved', async () => {
    // One covered violation gets a comment meanwhile: it stays resolved after the expiry.
    const [resolved] = await sshViolations(true);
    const comment = await h.app.inject({
      method: 'POST',
      url: `/api/violations/${resolved!.id}/resolution`,
      headers: { ...jdoe, 'content-type': 'text/plain' },
      payload: 'bastion decommissioned',
    });
    expect(comment.statusCode).toBe(200);

    const later = Date.now() + 31 * DAY;
    const runners = [0, 1].map(
      () =>
        new JobRunner(getDatabase(), silentLogger(), {
          clock: () => later,
          scheduler: new ManualScheduler(),
        }),
    );
    let ended = 0;
    const outcomes = await Promise.all(
      runners.map((runner) =>
        runner.runOnce({
          name: 'fullstop.risk-acceptance-expiry',
          intervalMs: 60_000,
          run: async () => {
            ended += await h.fullstop.acceptances.expireDue(new Date(later));
          },
        }),
      ),
    );
    expect(outcomes.sort()).toEqual(['ran', 'skipped']);
    expect(ended).toBe(1);
    // A second run (overlapping or late) finds nothing left to end.
    expect(await h.fullstop.acceptances.expireDue(new Date(later))).toBe(0);
    for (const runner of runners) await runner.stop();

    const acceptance = (
      await h.app.inject({ url: `/api/risk-acceptances/${accepted}`, headers: jdoe })
    ).json();
    expect(acceptance).toMatchObject({ status: 'expired', expired_by: 'fullstop', covered_violations: 3 });
    expect(acceptance.expired_at).toBe(acceptance.expires);
    const open = await sshViolations(false);
    expect(open.map((v) => v.rule_id)).toEqual([null, null]);
    const checked = await sshViolations(true);
    expect(checked.map((v) => [v.id, v.rule_id, v.comment])).toEqual([
      [resolved!.id, null, 'bastion decommissioned'],
    ]);
    const [event] = await h.ctx.auditLog.query({
      service: 'fullstop',
      action: 'fullstop.risk_acceptance.expire',
      limit: 1,
    });
    expect(event).toMatchObject({
      actor: 'fullstop',
      target_id: String(accepted),
      details: { automatic: true, uncovered: 3 },
    });
    const active = await h.app.inject({ url: '/api/risk-acceptances?team=team-a', headers: jdoe });
    expect(active.json()).toEqual([]);
    const expired = await h.app.inject({ url: '/api/risk-acceptances?status=expired', headers: jdoe });
    expect(expired.json().map((a: { id: number }) => a.id)).toEqual([accepted]);
  });

  it('ends early on request of the team, refused for others; an administrator may name any account', async () => {
    const created = await post(
      '/api/risk-acceptances',
      {
        criteria: { accounts: [ACCOUNT_B], types: [SG] },
        reason: 'audit exception 17',
        team: 'team-a',
        expires: in30Days(),
      },
      admin,
    );
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect(created.json().covered_violations).toBe(1);
    expect((await violations(`accounts=${ACCOUNT_B}&checked=true`)).map((v) => v.rule_id)).toEqual([id]);

    const refused = await post(`/api/risk-acceptances/${id}/expire`, { reason: 'no' }, bob);
    expect(refused.statusCode).toBe(403);
    const ended = await post(`/api/risk-acceptances/${id}/expire`, { reason: 'fixed after all' });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({ status: 'expired', expired_by: 'jdoe', covered_violations: 1 });
    expect((await violations(`accounts=${ACCOUNT_B}&checked=false`)).map((v) => v.rule_id)).toEqual([null]);
    const again = await post(`/api/risk-acceptances/${id}/expire`, {});
    expect(again.statusCode).toBe(409);
    const events = await h.ctx.auditLog.query({
      service: 'fullstop',
      action: 'fullstop.risk_acceptance.expire',
      targetId: String(id),
      limit: 10,
    });
    expect(events.map((e) => [e.actor, e.outcome])).toEqual([
      ['jdoe', 'refused'],
      ['jdoe', 'success'],
      ['bob', 'refused'],
    ]);
    const missing = await post('/api/risk-acceptances/999999/expire', {});
    expect(missing.statusCode).toBe(404);
  });

  it('documents the routes in the OpenAPI document, the immutable methods hidden', async () => {
    const openapi = (await h.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/risk-acceptances',
        '/api/risk-acceptances/dry-run',
        '/api/risk-acceptances/{id}',
        '/api/risk-acceptances/{id}/expire',
        '/api/violations/export',
      ]),
    );
    expect(Object.keys(openapi.paths['/api/risk-acceptances/{id}'])).toEqual(['get']);
    expect(
      openapi.paths['/api/risk-acceptances'].post.requestBody.content['application/json'].schema.required,
    ).toEqual(expect.arrayContaining(['criteria', 'reason', 'team', 'expires']));
  });
});
