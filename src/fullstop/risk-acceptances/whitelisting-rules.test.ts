import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import type { ImageCatalog } from '../aws/images.js';
import { FolderSource } from '../ingestion.js';
import * as records from '../test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  ACCOUNT_C,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from '../test-support/fullstop-harness.js';

const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('no RunInstances events in these tests')),
};

const DAY = 86_400_000;
const SG = 'SECURITY_GROUP_OPEN_TO_THE_WORLD';
const inDays = (n: number) => new Date(Date.now() + n * DAY).toISOString();

interface WireViolation {
  id: number;
  account_id: string;
  rule_id: number | null;
  violation_type: { id: string };
}

describeEachDatabase(
  'whitelisting rules (STUPS paths over risk acceptances)',
  FULLSTOP_TEST_MIGRATIONS,
  (getDatabase) => {
    let h: FullstopHarness;
    let root: string;
    let jdoe: Headers;
    let bob: Headers;

    const send = (
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      payload?: unknown,
      headers = jdoe,
    ) =>
      h.app.inject({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const violations = async (query: string): Promise<WireViolation[]> => {
      const r = await send('GET', `/api/violations?size=1000&accounts=${ACCOUNT_A}&${query}`);
      expect(r.statusCode, r.body).toBe(200);
      return r.json().content;
    };
    const sshRule = {
      account_id: ACCOUNT_A,
      region: 'eu-west-1',
      violation_type_entity_id: SG,
      image_name: '',
      meta_info_json_path: '$.rules[?(@.from_port == 22)]',
      reason: 'bastion host',
    };

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), noImages);
      jdoe = await h.as('jdoe');
      bob = await h.as('bob');
      root = await mkdtemp(join(tmpdir(), 'fullstop-rules-'));
      const trail = [
        records.authorizeIngress({ from: 22, to: 22, cidr: '0.0.0.0/0' }),
        records.authorizeIngress({ from: 8080, to: 8080, cidr: '0.0.0.0/0' }),
      ];
      await records.writeCloudTrailFile(
        root,
        { account: ACCOUNT_A, region: 'eu-west-1', day: '2026-11-27', name: '20261127T1000Z_x' },
        trail,
      );
      const run = await h.fullstop.ingestion.ingestPending(new FolderSource(root), 100);
      expect(run.failed).toEqual([]);
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('answers 400 naming the field: expiry_date required (with the maximum), account_id required and owned', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ ...sshRule }, /expiry_date is required, at most 365 days ahead/],
        [{ ...sshRule, expiry_date: inDays(400) }, /expiry_date must be at most 365 days/],
        [{ ...sshRule, expiry_date: inDays(-1) }, /expiry_date must be in the future/],
        [{ ...sshRule, account_id: undefined, expiry_date: inDays(30) }, /account_id is required/],
        [{ ...sshRule, account_id: ACCOUNT_C, expiry_date: inDays(30) }, /belongs to no team/],
        [{ ...sshRule, reason: ' ', expiry_date: inDays(30) }, /reason/],
      ];
      for (const [payload, message] of cases) {
        const r = await send('POST', '/api/whitelisting-rules', payload);
        expect(r.statusCode, r.body).toBe(400);
        expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(r.body).toMatch(message);
      }
      expect((await send('GET', '/api/whitelisting-rules')).json()).toEqual([]);
    });

    it('refuses a member of another team with 403, audited as the acceptance routes are', async () => {
      const r = await send('POST', '/api/whitelisting-rules', { ...sshRule, expiry_date: inDays(30) }, bob);
      expect(r.statusCode, r.body).toBe(403);
      const refusals = await h.ctx.auditLog.query({
        service: 'fullstop',
        action: 'fullstop.risk_acceptance.create',
        limit: 10,
      });
      expect(refusals.map((e) => [e.actor, e.outcome])).toEqual([['bob', 'refused']]);
    });

    let first: number;

    it('creates a rule with STUPS field names: an acceptance of the account’s team, applied retroactively', async () => {
      expect(await violations('whitelisted=true')).toEqual([]);
      const expiry = inDays(30);
      const r = await send('POST', '/api/whitelisting-rules', { ...sshRule, expiry_date: expiry, id: 99 });
      expect(r.statusCode, r.body).toBe(201);
      const rule = r.json();
      first = rule.id;
      expect(r.headers.location).toBe(`/api/whitelisting-rules/${first}`);
      expect(rule).toMatchObject({
        account_id: ACCOUNT_A,
        region: 'eu-west-1',
        violation_type_entity_id: SG,
        image_name: null, // blank criteria are ignored, as in STUPS
        image_owner: null,
        application_id: null,
        application_version: null,
        meta_info_json_path: sshRule.meta_info_json_path,
        reason: 'bastion host',
        expiry_date: new Date(expiry).toISOString(),
        created_by: 'jdoe',
        last_modified_by: 'jdoe',
        team: 'team-a',
        status: 'active',
      });
      expect(rule.id).not.toBe(99);
      // The same acceptance, seen through our own API.
      const acceptance = (await send('GET', `/api/risk-acceptances/${first}`)).json();
      expect(acceptance).toMatchObject({
        team: 'team-a',
        covered_violations: 1,
        criteria: {
          accounts: [ACCOUNT_A],
          regions: ['eu-west-1'],
          types: [SG],
          meta_info: sshRule.meta_info_json_path,
        },
      });
      expect((await send('GET', `/api/whitelisting-rules/${first}`)).json()).toEqual(rule);
      expect((await send('GET', '/api/whitelisting-rules')).json()).toEqual([rule]);
    });

    it('filters violations by whitelisted=true|false, in the list and the export', async () => {
      const whitelisted = await violations('whitelisted=true');
      expect(whitelisted.map((v) => [v.violation_type.id, v.rule_id])).toEqual([[SG, first]]);
      const open = await violations('whitelisted=false');
      expect(open.map((v) => v.rule_id)).toEqual([null]);
      expect(open[0]!.id).not.toBe(whitelisted[0]!.id);
      // checked=false (the default) and whitelisted=true contradict each other: nothing.
      expect(await violations('whitelisted=true&checked=false')).toEqual([]);
      const csv = await send(
        'GET',
        `/api/violations/export?format=csv&accounts=${ACCOUNT_A}&whitelisted=true`,
      );
      expect(csv.statusCode, csv.body).toBe(200);
      const lines = csv.body.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toContain(String(whitelisted[0]!.id));
    });

    let second: number;

    it('PUT ends the old rule now and creates a new one, in one transaction, and answers the new one', async () => {
      const other = await send(
        'PUT',
        `/api/whitelisting-rules/${first}`,
        { ...sshRule, reason: 'not mine', expiry_date: inDays(10) },
        bob,
      );
      expect(other.statusCode).toBe(403);
      const r = await send('PUT', `/api/whitelisting-rules/${first}`, {
        ...sshRule,
        reason: 'bastion host, until SSM',
        expiry_date: inDays(10),
      });
      expect(r.statusCode, r.body).toBe(200);
      const rule = r.json();
      second = rule.id;
      expect(second).not.toBe(first);
      expect(rule).toMatchObject({
        reason: 'bastion host, until SSM',
        status: 'active',
        account_id: ACCOUNT_A,
      });
      const old = (await send('GET', `/api/whitelisting-rules/${first}`)).json();
      expect(old).toMatchObject({ status: 'expired', last_modified_by: 'jdoe' });
      expect(Date.parse(old.expiry_date)).toBeLessThanOrEqual(Date.now());
      // The violation moved to the new rule.
      expect((await violations('whitelisted=true')).map((v) => v.rule_id)).toEqual([second]);
      const audit = await h.ctx.auditLog.query({
        service: 'fullstop',
        targetType: 'risk_acceptance',
        limit: 20,
      });
      expect(
        audit
          .filter((e) => e.outcome === 'success')
          .map((e) => [e.action, e.target_id])
          .sort(),
      ).toEqual(
        [
          ['fullstop.risk_acceptance.create', String(first)],
          ['fullstop.risk_acceptance.create', String(second)],
          ['fullstop.risk_acceptance.expire', String(first)],
        ].sort(),
      );
      // An ended rule cannot be replaced again.
      const again = await send('PUT', `/api/whitelisting-rules/${first}`, {
        ...sshRule,
        expiry_date: inDays(5),
      });
      expect(again.statusCode).toBe(409);
    });

    it('DELETE with expiryDate brings the end forward; a past or later date is 400, another team 403', async () => {
      const url = (date?: string) =>
        `/api/whitelisting-rules/${second}${date === undefined ? '' : `?expiryDate=${encodeURIComponent(date)}`}`;
      const cases: Array<[string | undefined, RegExp]> = [
        [undefined, /expiryDate is required/],
        [inDays(-1), /expiryDate must be in the future/],
        [inDays(20), /must not be later than the current expiry.*new one/],
      ];
      for (const [date, message] of cases) {
        const r = await send('DELETE', url(date));
        expect(r.statusCode, r.body).toBe(400);
        expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(r.body).toMatch(message);
      }
      expect((await send('DELETE', url(inDays(2)), undefined, bob)).statusCode).toBe(403);
      const earlier = inDays(2);
      const r = await send('DELETE', url(earlier));
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toMatchObject({
        id: second,
        status: 'active',
        expiry_date: new Date(earlier).toISOString(),
      });
      // Still in force until then: the violation stays whitelisted.
      expect((await violations('whitelisted=true')).map((v) => v.rule_id)).toEqual([second]);
      const events = await h.ctx.auditLog.query({
        service: 'fullstop',
        action: 'fullstop.risk_acceptance.shorten',
        limit: 10,
      });
      expect(events.map((e) => [e.actor, e.outcome])).toEqual(
        expect.arrayContaining([
          ['jdoe', 'success'],
          ['bob', 'refused'],
        ]),
      );
      const listed = (await send('GET', '/api/whitelisting-rules?status=active')).json();
      expect(listed.map((x: { id: number }) => x.id)).toEqual([second]);
      expect((await send('GET', '/api/whitelisting-rules')).json()).toHaveLength(2);
      expect((await send('GET', '/api/whitelisting-rules/12345')).statusCode).toBe(404);
    });

    it('shows an acceptance with several values per criterion in `criteria`, not as one STUPS field', async () => {
      const r = await send('POST', '/api/risk-acceptances', {
        criteria: { accounts: [ACCOUNT_A], regions: ['eu-west-1', 'eu-central-1'] },
        reason: 'two regions',
        team: 'team-a',
        expires: inDays(5),
      });
      expect(r.statusCode, r.body).toBe(201);
      const rule = (await send('GET', `/api/whitelisting-rules/${r.json().id}`)).json();
      expect(rule).toMatchObject({
        account_id: ACCOUNT_A,
        region: null,
        criteria: { regions: ['eu-west-1', 'eu-central-1'] },
      });
    });

    it('describes the STUPS paths and field names in the OpenAPI document', async () => {
      const r = await h.app.inject('/openapi.json');
      expect(r.statusCode).toBe(200);
      const paths = r.json().paths;
      expect(Object.keys(paths['/api/whitelisting-rules']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(paths['/api/whitelisting-rules/{id}']).sort()).toEqual(['delete', 'get', 'put']);
      const body = paths['/api/whitelisting-rules'].post.requestBody.content['application/json'].schema;
      expect(Object.keys(body.properties)).toEqual(
        expect.arrayContaining([
          'account_id',
          'violation_type_entity_id',
          'meta_info_json_path',
          'expiry_date',
        ]),
      );
    });
  },
);
