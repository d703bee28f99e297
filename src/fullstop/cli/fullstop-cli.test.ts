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
import { fullstopProgram, parseSince } from './main.js';

// Only violations reported through the API are used here: no rule looks an image up.
const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('the CLI tests ingest no RunInstances events')),
};

describe('fullstop CLI against a running fullstop.', () => {
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
      [3, ACCOUNT_B, 'EC2_WITH_KEYPAIR'],
    ] as const) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/violations',
        headers: writer,
        payload: { event_id: `e-${i}`, account_id: account, region: 'eu-west-1', violation_type: type },
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

  it('lists the violation types', async () => {
    const text = await fullstop(['types']);
    expect(text.code).toBe(0);
    expect(text.out()).toMatch(/^Id\s+Sev\s+Prio\s+Title\n/);
    expect(text.out()).toContain('CLOUDTRAIL_LOGGING_STOPPED');
    const json = JSON.parse((await fullstop(['types', '-o', 'json'])).out());
    expect(json).toContainEqual(
      expect.objectContaining({ id: 'WRONG_AMI', violation_severity: 3, priority: 1 }),
    );
  });

  it('lists violations with the STUPS filters, newest first, in every format', async () => {
    const json = JSON.parse((await fullstop(['list-violations', '-a', ACCOUNT_A, '-o', 'json'])).out());
    expect(json.map((v: { type: string }) => v.type)).toEqual(['PASSWORD_USED', 'WRONG_REGION']);
    const tsv = (
      await fullstop([
        'list',
        '--accounts',
        `${ACCOUNT_A},${ACCOUNT_B}`,
        '-t',
        'EC2_WITH_KEYPAIR',
        '-o',
        'tsv',
      ])
    ).out();
    expect(tsv.split('\n')[0]).toBe(
      'id\taccount_id\tregion\ttype\tseverity\tinstance_id\tmeta_info\tcomment\tcreated',
    );
    expect(tsv.split('\n')).toHaveLength(3);
    expect((await fullstop(['list-violations', '--since', '2999-01-01T00:00:00Z', '-o', 'json'])).out()).toBe(
      '[]\n',
    );
    const bad = await fullstop(['list-violations', '--since', 'last week']);
    expect(bad.code).toBe(2);
    expect(bad.err()).toBe(
      'fullstop: --since must be an age like 1d, 12h, 30m or an ISO time, not "last week"\n',
    );
  });

  it('resolves violations of the own team; a refusal is one line', async () => {
    const denied = await fullstop(['resolve-violations', 'not mine', '-a', ACCOUNT_A], bob);
    expect(denied.code).toBe(1);
    expect(denied.err()).toMatch(
      /^fullstop: fullstop\. answered 403 for violation \d+: bob is not a member of team team-a\n$/,
    );
    const done = await fullstop(['resolve-violations', 'Known, fixed in INC-7', '-a', ACCOUNT_A]);
    expect(done.err()).toBe('');
    expect(done.out()).toBe('Resolved 2 violations.\n');
    const resolved = JSON.parse(
      (await fullstop(['list-violations', '-a', ACCOUNT_A, '--checked', '-o', 'json'])).out(),
    );
    expect(resolved.map((v: { comment: string }) => v.comment)).toEqual([
      'Known, fixed in INC-7',
      'Known, fixed in INC-7',
    ]);
    expect(JSON.parse((await fullstop(['list-violations', '-a', ACCOUNT_A, '-o', 'json'])).out())).toEqual(
      [],
    );
    const missing = await fullstop(['resolve-violations', 'x', '--id', '999999']);
    expect(missing.code).toBe(1);
    expect(missing.err()).toMatch(/^fullstop: fullstop\. answered 404: violation 999999 does not exist\n$/);
  });

  it('reads ages and ISO times for --since', () => {
    const now = new Date('2026-11-28T12:00:00Z');
    expect(parseSince('1d', now).toISOString()).toBe('2026-11-27T12:00:00.000Z');
    expect(parseSince('30m', now).toISOString()).toBe('2026-11-28T11:30:00.000Z');
    expect(parseSince('2026-11-01T00:00:00Z', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});
