import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import type { Database } from '../../platform/db/database.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import type { ImageCatalog } from '../aws/images.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from '../test-support/fullstop-harness.js';
import { fullstopProgram } from './main.js';

const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('the CLI tests ingest no RunInstances events')),
};
const DAY = 86_400_000;

describe('fullstop rules (CLI)', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let h: FullstopHarness;
  let url: string;
  let token: string;
  let jdoe: Headers;
  let active: number;
  let ended: number;

  beforeAll(async () => {
    ({ database, drop } = await openTestDatabase('pglite', FULLSTOP_TEST_MIGRATIONS));
    h = await createFullstopHarness(database, noImages);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
    token = await h.issuer.token({ uid: 'jdoe' });
    jdoe = await h.as('jdoe');
    const rule = async (reason: string, type: string) => {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/whitelisting-rules',
        headers: jdoe,
        payload: {
          account_id: ACCOUNT_A,
          violation_type_entity_id: type,
          reason,
          expiry_date: new Date(Date.now() + 30 * DAY).toISOString(),
        },
      });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().id as number;
    };
    ended = await rule('old exception', 'PASSWORD_USED');
    active = await rule('legacy region until the migration', 'WRONG_REGION');
    const expire = await h.app.inject({
      method: 'POST',
      url: `/api/risk-acceptances/${ended}/expire`,
      headers: jdoe,
      payload: {},
    });
    expect(expire.statusCode, expire.body).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await h?.app.close();
    await drop?.();
  });

  async function fullstop(args: string[]): Promise<CapturedIo & { code: number }> {
    const io = await captureIo({ env: { FULLSTOP_URL: url, OAUTH2_ACCESS_TOKENS: `default=${token}` } });
    const code = await runCli(fullstopProgram({ io }), args, io);
    await io.cleanup();
    return Object.assign(io, { code });
  }

  it('lists the active rules with criteria, team and expiry; --all adds the ended ones', async () => {
    const text = await fullstop(['rules']);
    expect(text.err()).toBe('');
    expect(text.code).toBe(0);
    const lines = text.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Id\s+Team\s+Status\s+Expires\s+Criteria\s+By\s+Reason$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${active}\\s+team-a\\s+active\\s+.*accounts=${ACCOUNT_A} types=WRONG_REGION\\s+jdoe\\s+legacy region`,
      ),
    );

    const json = JSON.parse((await fullstop(['rules', '--all', '-o', 'json'])).out());
    expect(json).toEqual([
      expect.objectContaining({
        id: active,
        team: 'team-a',
        status: 'active',
        criteria: { accounts: [ACCOUNT_A], types: ['WRONG_REGION'] },
      }),
      expect.objectContaining({
        id: ended,
        status: 'expired',
        criteria: { accounts: [ACCOUNT_A], types: ['PASSWORD_USED'] },
      }),
    ]);
    expect(Date.parse(json[1].expiry_date)).toBeLessThanOrEqual(Date.now());

    const tsv = (await fullstop(['rules', '-o', 'tsv'])).out().trimEnd().split('\n');
    expect(tsv[0]).toBe('id\tteam\tstatus\texpiry_date\tcriteria\tcreated_by\treason');
    expect(tsv.slice(1).map((l) => l.split('\t')[0])).toEqual([String(active)]);
  });

  it('answers one line for a bad --output', async () => {
    const r = await fullstop(['rules', '-o', 'xml']);
    expect(r.code).not.toBe(0);
    expect(r.out()).toBe('');
    expect(r.err()).toMatch(/^fullstop: .*\n$/);
  });
});
