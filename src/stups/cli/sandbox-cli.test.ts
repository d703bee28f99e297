import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import type { Database } from '../../platform/db/database.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import {
  createSandboxHarness,
  SANDBOX_TEST_MIGRATIONS,
  type SandboxHarness,
  seedOrganisation,
  type TestOrganisation,
} from '../../sandbox/test-support/harness.js';
import { type RunningMoto, skipWithoutMoto, startMoto } from '../../senza/test-support/moto.js';
import { stupsProgram } from './main.js';

describe.skipIf(skipWithoutMoto())('stups sandbox', () => {
  let moto: RunningMoto;
  let db: { database: Database; drop: () => Promise<void> };
  let h: SandboxHarness;
  let org: TestOrganisation;
  let url: string;

  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    moto = await startMoto();
    org = await seedOrganisation(moto.endpoint);
    db = await openTestDatabase('pglite', SANDBOX_TEST_MIGRATIONS);
    h = await createSandboxHarness(db.database, { motoEndpoint: moto.endpoint });
    await h.sandbox.service.sync();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const address = h.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    url = `http://127.0.0.1:${address.port}`;
  }, 90_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await h?.close();
    await db?.drop();
    await moto?.stop();
  });

  async function stups(
    args: string[],
    who: 'jdoe' | 'ann' | 'admin' = 'jdoe',
    files: Record<string, string> = {},
  ): Promise<CapturedIo & { code: number }> {
    const token = h.headers[who].authorization?.replace('Bearer ', '') ?? '';
    const io = await captureIo({ env: { STUPS_SANDBOX_URL: url, OAUTH2_ACCESS_TOKENS: `default=${token}` } });
    for (const [name, text] of Object.entries(files)) await writeFile(join(io.cwd, name), text);
    const code = await runCli(stupsProgram(io), args, io);
    await io.cleanup();
    return Object.assign(io, { code });
  }

  it('lists with filters as text, json and tsv, and abbreviated', async () => {
    const json = await stups(['sandbox', 'list', '--state', 'released', '-o', 'json']);
    expect(json.err()).toBe('');
    expect(json.code).toBe(0);
    expect(
      JSON.parse(json.out())
        .map((a: { id: string }) => a.id)
        .sort(),
    ).toEqual(org.accountIds.slice(0, 3).sort());
    const tsv = await stups(['sandbox', 'list', '--ou', 'data', '-o', 'tsv']);
    const lines = tsv.out().trimEnd().split('\n');
    expect(lines[0]).toBe(
      'id\tname\torganizational_unit\tstate\tholder\tbudget_amount\tmonth_to_date\tcost_center\tlast_purge',
    );
    expect(lines).toHaveLength(6);
    const mine = await stups(['sand', 'li', '--mine']);
    expect(mine.code).toBe(0);
    expect(mine.out()).toMatch(new RegExp(`${org.accountIds[3]}.*sandbox-3.*assigned.*jdoe`));
    expect(mine.out()).not.toMatch(/sandbox-4/);
  });

  it('shows, assigns to yourself, releases', async () => {
    const id = org.accountIds[6]!;
    const shown = await stups(['sandbox', 'show', id], 'ann');
    expect(shown.code).toBe(0);
    expect(shown.out()).toMatch(/vanilla/);
    const assigned = await stups(['sandbox', 'assign', id, '-o', 'json'], 'ann');
    expect(assigned.err()).toBe('');
    expect(JSON.parse(assigned.out())).toMatchObject({ id, state: 'assigned', holder: 'ann' });
    const released = await stups(['sandbox', 'rel', id, '-o', 'json'], 'ann');
    expect(JSON.parse(released.out())).toMatchObject({ id, state: 'released', holder: null });
  });

  it('lists what a purge would delete; --force needs the installation to allow it', async () => {
    const id = org.accountIds[3]!;
    const dry = await stups(['sandbox', 'purge', id, '--dry-run', '-o', 'json']);
    expect(dry.code).toBe(0);
    expect(Array.isArray(JSON.parse(dry.out()))).toBe(true);
    const text = await stups(['sandbox', 'purge', id, '--dry-run']);
    expect(text.err()).toMatch(/^Dry run: nothing was changed \(\d+ to delete, \d+ kept\)\.\n$/);
    const neither = await stups(['sandbox', 'purge', id]);
    expect(neither.code).toBe(2);
    expect(neither.err()).toBe('stups: give exactly one of --dry-run and --force\n');
    const force = await stups(['sandbox', 'purge', id, '--force'], 'admin');
    expect(force.code).toBe(1);
    expect(force.err().trimEnd().split('\n')).toHaveLength(1);
    expect(force.err()).toMatch(/sandbox.allowForcePurge/);
  });

  it('answers mistakes with one line and a non-zero exit', async () => {
    const badId = await stups(['sandbox', 'show', '12']);
    expect(badId.code).toBe(1);
    expect(badId.err()).toBe('stups: 12 is not a 12-digit AWS account id\n');
    const unknown = await stups(['sandbox', 'show', '999999999999']);
    expect(unknown.code).toBe(1);
    expect(unknown.err()).toMatch(/^stups: .*account 999999999999 is not a sandbox account\n$/);
    const badState = await stups(['sandbox', 'list', '-s', 'lost']);
    expect(badState.err()).toBe(
      'stups: --state must be one of vanilla, assigned, released, expired, purged, prepared, not "lost"\n',
    );
    const taken = await stups(['sandbox', 'assign', org.accountIds[4]!, '--to', 'nobody'], 'admin');
    expect(taken.code).toBe(1);
    expect(taken.err()).not.toMatch(/\n.+/);
    const badOutput = await stups(['sandbox', 'list', '-o', 'xml']);
    expect(badOutput.code).toBe(2);
  });

  it('exports tags as CSV and imports a file (dry run, bad rows with their lines, then for real)', async () => {
    const exported = await stups(['sandbox', 'tags', 'export']);
    expect(exported.code).toBe(0);
    expect(exported.out().split('\n')[0]).toBe('account,cost-center');
    const [a, b] = [org.accountIds[8]!, org.accountIds[9]!];
    const bad = await stups(['sandbox', 'tags', 'import', 'tags.csv'], 'admin', {
      'tags.csv': `account,cost-center\n${a},cc-7\n12,cc-8\n${b},cc-9,extra\n`,
    });
    expect(bad.code).toBe(1);
    expect(bad.err()).toBe(
      'tags.csv:3: "12" is not a 12-digit AWS account id\n' +
        'tags.csv:4: 3 cells, the header has 2\n' +
        'stups: sandbox answered 400: the tag file has 2 problem(s); nothing was imported: ' +
        'line 3: "12" is not a 12-digit AWS account id; line 4: 3 cells, the header has 2\n',
    );
    const good = { 'tags.csv': `account,cost-center\n${a},cc-7\n${b},cc-200\n` };
    const dry = await stups(
      ['sandbox', 'tags', 'import', 'tags.csv', '--dry-run', '-o', 'tsv'],
      'admin',
      good,
    );
    expect(dry.code).toBe(0);
    expect(dry.out()).toBe(`account\tkey\tvalue\n${a}\tcost-center\tcc-7\n`);
    expect((await h.sandbox.service.get(a)).cost_center).toBe('cc-100');
    const real = await stups(['sandbox', 'tags', 'import', 'tags.csv'], 'admin', good);
    expect(real.code).toBe(0);
    expect(real.err()).toBe('Imported (2 rows, 1 accounts changed).\n');
    expect((await h.sandbox.service.get(a)).cost_center).toBe('cc-7');
    const notAdmin = await stups(['sandbox', 'tags', 'import', 'tags.csv'], 'jdoe', good);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err()).toMatch(
      /^stups: sandbox answered 403: only administrators may import account tags\n$/,
    );
    const missing = await stups(['sandbox', 'tags', 'import', 'nope.csv'], 'admin');
    expect(missing.err()).toBe('stups: cannot read nope.csv: ENOENT\n');
  });
});
