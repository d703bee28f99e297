import { ListTagsForResourceCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTestDatabase } from '../platform/test-support/databases.js';
import type { Database } from '../platform/db/database.js';
import {
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../senza/test-support/moto.js';
import { parseTagsCsv, tagsCsv } from './tags-csv.js';
import {
  createSandboxHarness,
  SANDBOX_TEST_MIGRATIONS,
  type SandboxHarness,
  seedOrganisation,
  type TestOrganisation,
} from './test-support/harness.js';

const PROBLEM = /^application\/problem\+json/;

describe('the tag file', () => {
  const known = new Set(['111111111111', '222222222222']);

  it('reads quoted cells and counts lines inside them; values AWS would refuse are problems', () => {
    const csv =
      'account,cost-center,owner note\r\n"111111111111","cc-1","Ann Smith"\n222222222222,,"two\nlines"\n' +
      '111111111111,cc-1,"a, ""b"""\n';
    const { rows, problems } = parseTagsCsv(csv, known);
    // The third row starts on line 5: the quoted line break of line 3 is counted.
    expect(problems).toEqual([
      { line: 3, message: 'value of "owner note" is not a valid tag value' },
      { line: 5, message: 'account 111111111111 is already on line 2' },
      { line: 5, message: 'value of "owner note" is not a valid tag value' },
    ]);
    expect(rows[0]).toEqual({
      line: 2,
      accountId: '111111111111',
      tags: { 'cost-center': 'cc-1', 'owner note': 'Ann Smith' },
    });
  });

  it('reports every problem at once, with its line', () => {
    const csv = [
      'account,cost-center,account-state,team',
      '111111111111,cc-1,assigned,a',
      '12345,cc-2,,b',
      '333333333333,cc-3,,c',
      '111111111111,cc-1,,a',
      '222222222222,cc-1,a',
      '222222222222,cc-1,,"open',
    ].join('\n');
    expect(parseTagsCsv(csv, known).problems).toEqual([
      { line: 1, message: 'tag "account-state" is set by the account lifecycle, not by a file' },
      { line: 3, message: '"12345" is not a 12-digit AWS account id' },
      { line: 4, message: 'account 333333333333 is not a sandbox account' },
      { line: 5, message: 'account 111111111111 is already on line 2' },
      { line: 6, message: '3 cells, the header has 4' },
      { line: 7, message: 'a quoted cell is not closed' },
    ]);
    expect(parseTagsCsv('', known).problems).toEqual([{ line: 1, message: 'empty file: no header' }]);
    expect(parseTagsCsv('id,team\n', known).problems).toEqual([
      { line: 1, message: 'the first column must be "account", not "id"' },
    ]);
  });

  it('exports what it imports, without the lifecycle tags', () => {
    const csv = tagsCsv([
      { id: '222222222222', tags: { 'account-state': 'assigned', team: 'data platform' } },
      { id: '111111111111', tags: { 'cost-center': 'cc-1', 'account-state-since:assigned': 't' } },
    ]);
    expect(csv).toBe('account,cost-center,team\n111111111111,cc-1,\n222222222222,,data platform\n');
    expect(parseTagsCsv(csv, known).rows.map((r) => r.tags)).toEqual([
      { 'cost-center': 'cc-1' },
      { team: 'data platform' },
    ]);
  });
});

describe.skipIf(skipWithoutMoto())('tag import and export on moto_server (Organizations tags)', () => {
  let moto: RunningMoto;
  let db: { database: Database; drop: () => Promise<void> };
  let h: SandboxHarness;
  let org: TestOrganisation;
  let organizations: OrganizationsClient;
  const tagsOf = async (id: string) =>
    Object.fromEntries(
      ((await organizations.send(new ListTagsForResourceCommand({ ResourceId: id }))).Tags ?? []).map((t) => [
        t.Key,
        t.Value,
      ]),
    );
  const importTags = (csv: string, headers: Record<string, string>, dryRun = false) =>
    h.app.inject({
      method: 'POST',
      url: `/tags?dry_run=${dryRun}`,
      headers: { ...headers, 'content-type': 'text/csv' },
      payload: csv,
    });
  const audits = () => h.ctx.auditLog.query({ service: 'sandbox', action: 'sandbox.tags.import', limit: 20 });

  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    moto = await startMoto();
    org = await seedOrganisation(moto.endpoint);
    organizations = new OrganizationsClient(motoClientConfig(moto.endpoint));
    db = await openTestDatabase('pglite', SANDBOX_TEST_MIGRATIONS);
    h = await createSandboxHarness(db.database, { motoEndpoint: moto.endpoint });
    await h.sandbox.service.sync();
  }, 90_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    organizations?.destroy();
    await h?.close();
    await db?.drop();
    await moto?.stop();
  });

  it('exports the organisation’s tags as CSV', async () => {
    const response = await h.app.inject({ url: '/tags', headers: h.headers.jdoe });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const lines = response.body.trim().split('\n');
    expect(lines[0]).toBe('account,cost-center');
    expect(lines).toHaveLength(11);
    expect(lines).toContain(`${org.accountIds[0]},cc-100`);
    expect(lines).toContain(`${org.accountIds[1]},cc-200`);
  });

  it('a file with bad rows is 400 with every problem and its line, writes nothing, and is audited', async () => {
    const [a, b] = [org.accountIds[0]!, org.accountIds[1]!];
    const before = await tagsOf(a);
    const csv = `account,cost-center,finops-owner\n${a},cc-900,alice\n999999999999,cc-1,x\n${b},cc-901\n`;
    const response = await importTags(csv, h.headers.admin);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.json()).toMatchObject({
      code: 'TAGS_INVALID',
      errors: [
        { line: 3, message: 'account 999999999999 is not a sandbox account' },
        { line: 4, message: '2 cells, the header has 3' },
      ],
    });
    expect(await tagsOf(a)).toEqual(before);
    expect((await h.sandbox.service.get(a)).cost_center).toBe('cc-100');
    expect((await audits())[0]).toMatchObject({ outcome: 'refused', details: { code: 'TAGS_INVALID' } });
  });

  it('only administrators import (403, audited)', async () => {
    const response = await importTags(`account,team\n${org.accountIds[0]},x\n`, h.headers.jdoe);
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('NOT_ADMIN');
    expect((await audits())[0]).toMatchObject({ outcome: 'refused', actor: 'jdoe' });
  });

  it('a dry run lists the changes and writes nothing; the import writes them to Organizations', async () => {
    const [a, b, c] = [org.accountIds[0]!, org.accountIds[1]!, org.accountIds[2]!];
    // c's cost centre is unchanged: not a change. An empty cell changes nothing either.
    const csv = `account,cost-center,finops-owner\n${a},cc-900,alice\n${b},,bob\n${c},cc-100,\n`;
    const dry = await importTags(csv, h.headers.admin, true);
    expect(dry.statusCode).toBe(200);
    const changes = [
      { account_id: a, tags: { 'cost-center': 'cc-900', 'finops-owner': 'alice' } },
      { account_id: b, tags: { 'finops-owner': 'bob' } },
    ];
    expect(dry.json()).toEqual({ dry_run: true, rows: 3, changes });
    expect((await tagsOf(a))['cost-center']).toBe('cc-100');
    expect((await audits())[0]).toMatchObject({ outcome: 'success', details: { dry_run: true } });

    const real = await importTags(csv, h.headers.admin);
    expect(real.json()).toEqual({ dry_run: false, rows: 3, changes });
    expect(await tagsOf(a)).toMatchObject({
      'cost-center': 'cc-900',
      'finops-owner': 'alice',
      'account-state': 'released',
    });
    expect(await tagsOf(b)).toMatchObject({ 'cost-center': 'cc-200', 'finops-owner': 'bob' });
    expect((await h.sandbox.service.get(a)).cost_center).toBe('cc-900');
    expect((await audits())[0]).toMatchObject({ outcome: 'success', details: { dry_run: false, changes } });
    // What Organizations holds now is what the next sync and export read.
    await h.sandbox.service.sync();
    const exported = (await h.app.inject({ url: '/tags', headers: h.headers.jdoe })).body;
    expect(exported.split('\n')[0]).toBe('account,cost-center,finops-owner');
    expect(exported).toContain(`${a},cc-900,alice`);
    // Importing the export again changes nothing.
    expect((await importTags(exported, h.headers.admin)).json().changes).toEqual([]);
  });
});
