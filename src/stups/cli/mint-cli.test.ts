import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskBucketStore } from '../../mint/buckets.js';
import { createMintHarness, type MintHarness, MINT_TEST_MIGRATIONS } from '../../mint/test-support.js';
import { runCli } from '../../platform/cli/run-cli.js';
import type { Database } from '../../platform/db/database.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import { stupsProgram } from './main.js';

describe('stups mint', () => {
  let dir: string;
  let db: { database: Database; drop: () => Promise<void> };
  let h: MintHarness;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mint-cli-'));
    db = await openTestDatabase('pglite', MINT_TEST_MIGRATIONS);
    h = await createMintHarness(db.database, diskBucketStore(dir));
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const address = h.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    url = `http://127.0.0.1:${address.port}`;
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function stups(args: string[], who: 'jdoe' | 'bob' = 'jdoe'): Promise<CapturedIo & { code: number }> {
    const token = h.headers[who].authorization?.replace('Bearer ', '') ?? '';
    const io = await captureIo({ env: { STUPS_MINT_URL: url, OAUTH2_ACCESS_TOKENS: `default=${token}` } });
    const code = await runCli(stupsProgram(io), args, io);
    await io.cleanup();
    return Object.assign(io, { code });
  }

  it('configures, shows and renews, with --output json', async () => {
    const configured = await stups([
      'mint',
      'configure',
      'order-engine',
      '-b',
      'team-a-mint',
      '-s',
      'sales_order.read',
      '--redirect-url',
      'https://order-engine.example.org/cb',
      '-o',
      'json',
    ]);
    expect(configured.err()).toBe('');
    expect(configured.code).toBe(0);
    expect(JSON.parse(configured.out())).toMatchObject({
      id: 'order-engine',
      s3_buckets: ['team-a-mint'],
      scopes: [{ resource_type_id: 'sales_order', scope_id: 'read' }],
      is_client_confidential: true,
    });
    // What is not given stays.
    const publicClient = await stups(['mint', 'configure', 'order-engine', '--public', '-o', 'json']);
    expect(JSON.parse(publicClient.out())).toMatchObject({
      is_client_confidential: false,
      s3_buckets: ['team-a-mint'],
    });

    const shown = await stups(['mint', 'show', 'order-engine']);
    expect(shown.code).toBe(0);
    expect(shown.out()).toMatch(/sales_order\.read/);
    expect(shown.out()).toMatch(/stups_order-engine/);

    const renewed = await stups(['mint', 'renew', 'order-engine']);
    expect(renewed.code).toBe(0);
    expect(renewed.err()).toMatch(/Renewal of order-engine requested/);
  });

  it('renew --credentials rotates only the password, only the client secret, or both', async () => {
    expect((await stups(['mint', 'configure', 'order-engine', '--confidential'])).code).toBe(0);
    const rotateDue = async () => {
      h.tokens.clock.advance(601); // past the overlap grace of the previous generation
      return h.mint.rotateDue();
    };
    await rotateDue();

    const password = await stups(['mint', 'renew', 'order-engine', '--credentials', 'password']);
    expect(password.code).toBe(0);
    expect(password.err()).toMatch(/Renewal of order-engine requested \(the password\)/);
    expect(await rotateDue()).toMatchObject({ passwordRotations: 1, clientRotations: 0, failed: 0 });

    const client = await stups(['mint', 'renew', 'order-engine', '--credentials', 'client']);
    expect(client.code).toBe(0);
    expect(await rotateDue()).toMatchObject({ passwordRotations: 0, clientRotations: 1, failed: 0 });

    const both = await stups(['mint', 'renew', 'order-engine', '--credentials', 'both']);
    expect(both.code).toBe(0);
    expect(await rotateDue()).toMatchObject({ passwordRotations: 1, clientRotations: 1, failed: 0 });

    // A typo is refused before any request: nothing is renewed.
    const typo = await stups(['mint', 'renew', 'order-engine', '--credentials', 'secret']);
    expect(typo.code).not.toBe(0);
    expect(typo.err().trim().split('\n')).toHaveLength(1);
    expect(typo.err()).toMatch(/--credentials must be password, client or both/);
    expect(await rotateDue()).toMatchObject({ passwordRotations: 0, clientRotations: 0 });

    // A public client has no secret: mint's 400, in one line.
    expect((await stups(['mint', 'configure', 'order-engine', '--public'])).code).toBe(0);
    await rotateDue();
    const publicClient = await stups(['mint', 'renew', 'order-engine', '--credentials', 'client']);
    expect(publicClient.code).not.toBe(0);
    expect(publicClient.err().trim().split('\n')).toHaveLength(1);
    expect(publicClient.err()).toMatch(/400|public/);
  });

  it('fails with one line: unknown scope, not allowed, not found', async () => {
    const unknown = await stups(['mint', 'configure', 'billing', '-b', 'b-mint', '-s', 'sales_order.nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err().trim().split('\n')).toHaveLength(1);
    expect(unknown.err()).toMatch(/sales_order\.nope/);
    const refused = await stups(['mint', 'configure', 'billing', '-b', 'b-mint'], 'bob');
    expect(refused.code).not.toBe(0);
    expect(refused.err()).toMatch(/403/);
    const missing = await stups(['mint', 'show', 'nothing-here']);
    expect(missing.code).not.toBe(0);
    expect(missing.err().trim().split('\n')).toHaveLength(1);
    expect(missing.err()).toMatch(/404/);
  });
});
