import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import type { Database } from '../../platform/db/database.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import type { ImageCatalog } from '../aws/images.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../test-support/fullstop-harness.js';
import { fullstopProgram, parseExpires } from './main.js';

const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('the CLI tests ingest no RunInstances events')),
};

describe('fullstop CLI: risk acceptances and exports', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let h: FullstopHarness;
  let url: string;
  let jdoe: string;
  let bob: string;

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase('pglite', FULLSTOP_TEST_MIGRATIONS));
    h = await createFullstopHarness(database, noImages);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
    jdoe = await h.issuer.token({ uid: 'jdoe' });
    bob = await h.issuer.token({ uid: 'bob' });
    const writer = await h.as('scanner', { realm: 'services', scopes: ['uid', 'fullstop.violation.write'] });
    for (const [i, account, type] of [
      [1, ACCOUNT_A, 'WRONG_REGION'],
      [2, ACCOUNT_A, 'PASSWORD_USED'],
      [3, ACCOUNT_A, 'WRONG_REGION'],
      [4, ACCOUNT_B, 'EC2_WITH_KEYPAIR'],
    ] as const) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/violations',
        headers: writer,
        payload: { event_id: `e-${i}`, account_id: account, region: 'us-east-1', violation_type: type },
      });
      expect(r.statusCode).toBe(201);
    }
  }, 60_000);

  afterAll(async () => {
    await h?.app.close();
    await drop?.();
  });

  async function fullstop(args: string[], token = jdoe): Promise<CapturedIo & { code: number }> {
    const io = await captureIo({ env: { FULLSTOP_URL: url, OAUTH2_ACCESS_TOKENS: `default=${token}` } });
    const code = await runCli(fullstopProgram({ io }), args, io);
    await io.cleanup();
    return Object.assign(io, { code });
  }

  it('tries criteria out with --dry-run, then accepts the risk; the violations count as checked', async () => {
    const dry = await fullstop(['accept-risk', '--team', 'team-a', '-t', 'WRONG_REGION', '--dry-run']);
    expect(dry.err()).toBe('');
    expect(dry.out()).toMatch(/^Would cover 2 open violations\.\nId\s+Account/);
    expect((await fullstop(['risk-acceptances', '--status', 'all', '-o', 'json'])).out()).toBe('[]\n');

    const created = await fullstop([
      'accept-risk',
      '--team',
      'team-a',
      '-t',
      'WRONG_REGION',
      '-r',
      'us-east-1',
      '--reason',
      'legacy region until the migration',
      '--expires',
      '90d',
    ]);
    expect(created.err()).toBe('');
    expect(created.out()).toMatch(/^Risk acceptance \d+ covers 2 violations until \d{4}-\d\d-\d\dT/);
    const listed = JSON.parse((await fullstop(['risk-acceptances', '--team', 'team-a', '-o', 'json'])).out());
    expect(listed).toEqual([
      expect.objectContaining({
        team: 'team-a',
        status: 'active',
        covered_violations: 2,
        criteria: { types: ['WRONG_REGION'], regions: ['us-east-1'] },
      }),
    ]);
    const open = JSON.parse((await fullstop(['list-violations', '-a', ACCOUNT_A, '-o', 'json'])).out());
    expect(open.map((v: { type: string }) => v.type)).toEqual(['PASSWORD_USED']);
    const tsv = (await fullstop(['risk-acceptances', '-o', 'tsv'])).out().split('\n');
    expect(tsv[0]).toBe('id\tteam\tstatus\tcovered_violations\texpires\tcreated_by\tcriteria\treason');
  });

  it('answers one line for bad input and refusals', async () => {
    const noCriteria = await fullstop([
      'accept-risk',
      '--team',
      'team-a',
      '--reason',
      'x',
      '--expires',
      '1d',
    ]);
    expect(noCriteria.code).toBe(2);
    expect(noCriteria.err()).toMatch(/^fullstop: give at least one criterion: .*\n$/);
    const badDate = await fullstop([
      'accept-risk',
      '--team',
      'team-a',
      '-t',
      'WRONG_REGION',
      '--reason',
      'x',
      '--expires',
      'soon',
    ]);
    expect(badDate.code).toBe(2);
    expect(badDate.err()).toBe(
      'fullstop: --expires must be a duration like 90d, 12w or an ISO date, not "soon"\n',
    );
    const tooLate = await fullstop([
      'accept-risk',
      '--team',
      'team-a',
      '-t',
      'PASSWORD_USED',
      '--reason',
      'x',
      '--expires',
      '400d',
    ]);
    expect(tooLate.code).toBe(1);
    expect(tooLate.err()).toMatch(
      /^fullstop: fullstop\. answered 400: expires must be at most 365 days ahead.*\n$/,
    );
    const badRegex = await fullstop(['accept-risk', '--team', 'team-a', '--image-name', '(', '--dry-run']);
    expect(badRegex.err()).toMatch(
      /^fullstop: fullstop\. answered 400: criteria\.image_name is not a regular expression.*\n$/,
    );
    const refused = await fullstop(
      ['accept-risk', '--team', 'team-a', '-t', 'PASSWORD_USED', '--reason', 'x', '--expires', '1d'],
      bob,
    );
    expect(refused.code).toBe(1);
    expect(refused.err()).toBe('fullstop: fullstop. answered 403: bob is not a member of team team-a\n');
    const format = await fullstop(['export', '--format', 'xml']);
    expect(format.code).toBe(2);
    expect(format.err()).toBe('fullstop: --format must be csv, sarif or ocsf, not "xml"\n');
  });

  it('exports to stdout and to a file', async () => {
    const csv = await fullstop(['export', '--format', 'csv', '-a', `${ACCOUNT_A},${ACCOUNT_B}`]);
    expect(csv.err()).toBe('');
    const lines = csv.out().trim().split('\n');
    expect(lines[0]).toMatch(/^id,account_id,region,instance_id,type,/);
    expect(lines.slice(1).map((l) => l.split(',')[4])).toEqual(['PASSWORD_USED', 'EC2_WITH_KEYPAIR']);
    const dir = await mkdtemp(join(tmpdir(), 'fullstop-export-'));
    const file = join(dir, 'accepted.json');
    const checked = await fullstop(['export', '-f', 'ocsf', '-a', ACCOUNT_A, '--checked', '-o', file]);
    expect(checked.err()).toBe(`Wrote ${file}.\n`);
    const findings = JSON.parse(await readFile(file, 'utf8'));
    await rm(dir, { recursive: true, force: true });
    expect(findings.map((f: { status: string; class_uid: number }) => [f.class_uid, f.status])).toEqual([
      [2004, 'Suppressed'],
      [2004, 'Suppressed'],
    ]);
  });

  it('ends an acceptance early; its violations are open again', async () => {
    const [acceptance] = JSON.parse((await fullstop(['risk-acceptances', '-o', 'json'])).out());
    const refused = await fullstop(['expire-acceptance', String(acceptance.id)], bob);
    expect(refused.err()).toBe('fullstop: fullstop. answered 403: bob is not a member of team team-a\n');
    const ended = await fullstop(['expire-acceptance', String(acceptance.id), '--reason', 'migrated']);
    expect(ended.err()).toBe('');
    expect(ended.out()).toBe(
      `Risk acceptance ${acceptance.id} ended; the 2 violations it covered are open again unless resolved.\n`,
    );
    const open = JSON.parse((await fullstop(['list-violations', '-a', ACCOUNT_A, '-o', 'json'])).out());
    expect(open).toHaveLength(3);
    const again = await fullstop(['expire-acceptance', String(acceptance.id)]);
    expect(again.code).toBe(1);
    expect(again.err()).toBe(
      `fullstop: fullstop. answered 409: risk acceptance ${acceptance.id} has already ended\n`,
    );
    const bad = await fullstop(['expire-acceptance', 'abc']);
    expect(bad.code).toBe(2);
  });

  it('reads durations and ISO dates for --expires', () => {
    const now = new Date('2026-11-28T12:00:00Z');
    expect(parseExpires('90d', now)).toBe('2027-02-26T12:00:00.000Z');
    expect(parseExpires('2w', now)).toBe('2026-12-12T12:00:00.000Z');
    expect(parseExpires('2027-01-31', now)).toBe('2027-01-31T00:00:00.000Z');
  });
});
