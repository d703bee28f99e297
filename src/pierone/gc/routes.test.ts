import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from '../../platform/test-support/cli-io.js';
import { runCli } from '../../platform/cli/run-cli.js';
import { openTestDatabase } from '../../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { pieroneProgram } from '../cli/main.js';
import { pieroneMigrations } from '../migrations.js';
import { startTestRegistry, type TestRegistry } from '../test-support/registry-harness.js';
import { sha256 } from '../test-support/http.js';

describe('POST /gc and pierone gc', () => {
  let registry: TestRegistry;
  let drop: () => Promise<void>;
  let adminToken: string;
  let orphan: string;

  beforeAll(async () => {
    const opened = await openTestDatabase('pglite', [...KERNEL_MIGRATIONS, pieroneMigrations]);
    drop = opened.drop;
    registry = await startTestRegistry(opened.database);
    adminToken = await registry.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
    // Bytes nobody references (a blob stored without any push).
    const content = randomBytes(100);
    orphan = sha256(content);
    await registry.blobs.put(Readable.from([content]), { digest: orphan });
  }, 60_000);
  afterAll(async () => {
    await registry?.close();
    await drop?.();
  });

  const gc = (token: string | undefined, query = '') =>
    fetch(`${registry.url}/gc${query}`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it('refuses anyone but a platform admin with pierone.admin.delete, and audits the refusal', async () => {
    const plain = await gc(registry.tokens.alice);
    expect(plain.status).toBe(403);
    expect(plain.headers.get('content-type')).toContain('application/problem+json');
    const anonymous = await gc(undefined);
    expect(anonymous.status).toBe(401);
    const refused = await registry.ctx.auditLog.query({
      service: 'pierone',
      action: 'pierone.gc.run',
      limit: 10,
    });
    expect(refused.filter((e) => e.outcome === 'refused').map((e) => e.actor)).toEqual(
      expect.arrayContaining(['alice', 'anonymous']),
    );
    expect(await registry.blobs.exists(orphan)).toBe(true);
  });

  it('the CLI dry run changes nothing, and fresh bytes are kept through the default grace period', async () => {
    const io = await captureIo({
      env: { PIERONE_URL: registry.url, OAUTH2_ACCESS_TOKENS: `default=${adminToken}` },
    });
    const code = await runCli(pieroneProgram({ io }), ['gc', '--dry-run', '-o', 'json'], io);
    const out = io.out();
    expect(code, io.err()).toBe(0);
    await io.cleanup();
    const result = JSON.parse(out) as {
      dry_run: boolean;
      scanned: number;
      candidates: Array<{ digest: string }>;
    };
    expect(result.dry_run).toBe(true);
    expect(result.scanned).toBe(1);
    // Written just now: within the default grace period of a day, so not a candidate.
    expect(result.candidates).toEqual([]);
    const answer = await gc(adminToken);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ dry_run: false, scanned: 1, deleted: 0 });
    expect(await registry.blobs.exists(orphan)).toBe(true);
    const runs = await registry.ctx.auditLog.query({
      service: 'pierone',
      action: 'pierone.gc.run',
      limit: 10,
    });
    expect(runs.filter((e) => e.outcome === 'success' && e.actor === 'admin')).toHaveLength(2);
  });

  it('with grace 0 (the job’s settings) the orphan goes, and /metrics counts it', async () => {
    const result = await registry.service.collectGarbage({ graceMs: 0 });
    expect(result.deleted).toBe(1);
    expect(await registry.blobs.exists(orphan)).toBe(false);
    const metrics = await registry.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/pierone_gc_blobs_deleted_total 1/);
    expect(metrics).toMatch(/pierone_gc_blobs_scanned_total 3/);
  });
});
