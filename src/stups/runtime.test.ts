import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../platform/db/database.js';
import { ManualScheduler } from '../platform/jobs/manual-scheduler.js';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { freePortBlock } from './free-ports.js';
import { MODULES } from './modules.js';
import { type RunningPlatform, startPlatform } from './runtime.js';
import { parseSettingsTree } from './settings.js';

let platform: RunningPlatform | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await platform?.stop();
  platform = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(only?: 'pierone' | 'kio') {
  dataDir = await mkdtemp(join(tmpdir(), 'stups-runtime-'));
  const basePort = await freePortBlock(PORT_BLOCK_SIZE);
  const scheduler = new ManualScheduler();
  platform = await startPlatform(parseSettingsTree({ platform: { dataDir, basePort, logLevel: 'silent' } }), {
    logger: silentLogger(),
    only,
    scheduler,
  });
  return { platform, scheduler, dataDir, basePort };
}

/** Pier One's purge job: one for all replicas, since upload state is shared (pierone migration 006). */
const PURGE_JOB = /^pierone\.upload-purge$/;

describe('the runtime loop over MODULES', () => {
  it('serves every module at its port and runs their jobs through the job runner', async () => {
    const { platform, scheduler, dataDir, basePort } = await start();
    expect(platform.listening).toEqual(MODULES.map((m) => m.name));
    expect(platform.urls.kio).toBe(`http://localhost:${basePort + 4}`);
    const health = await fetch(`${platform.urls.kio}/health`);
    expect(health.status).toBe(200);
    expect(platform.jobNames).toEqual([
      'token-service.maintenance',
      expect.stringMatching(PURGE_JOB),
      'pierone.retention',
      'pierone.gc',
      'even.grant-expiry',
      'mint.rotation',
      'fullstop.ingest-folder',
      'fullstop.risk-acceptance-expiry',
      'fullstop.periodic.outdated-taupage',
      'fullstop.periodic.unsecured-public-endpoint',
      'fullstop.periodic.active-key-too-old',
      'fullstop.periodic.unsecured-root-user',
      'fullstop.periodic.cross-account-role',
    ]);

    scheduler.fire();
    await platform.jobs.idle();
    await platform.stop();
    // Every job claimed its tick in the database: it ran through the runner.
    const database = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    try {
      const ticks = await database
        .kysely<{ platform_job_ticks: { name: string } }>()
        .selectFrom('platform_job_ticks')
        .select('name')
        .orderBy('name')
        .execute();
      expect(ticks.map((t) => t.name)).toEqual([
        'even.grant-expiry',
        'fullstop.ingest-folder',
        'fullstop.periodic.active-key-too-old',
        'fullstop.periodic.cross-account-role',
        'fullstop.periodic.outdated-taupage',
        'fullstop.periodic.unsecured-public-endpoint',
        'fullstop.periodic.unsecured-root-user',
        'fullstop.risk-acceptance-expiry',
        'mint.rotation',
        'pierone.gc',
        'pierone.retention',
        expect.stringMatching(PURGE_JOB),
        'token-service.maintenance',
      ]);
    } finally {
      await database.destroy();
    }
  }, 60_000);

  it('stups serve runs only the chosen service and its jobs', async () => {
    const { platform } = await start('pierone');
    expect(platform.listening).toEqual(['pierone']);
    expect(platform.jobNames).toEqual([expect.stringMatching(PURGE_JOB), 'pierone.retention', 'pierone.gc']);
  }, 60_000);

  it('names a port in use, and leaves the data directory free for the next start', async () => {
    const first = await start('kio');
    const port = Number(new URL(first.platform.urls.kio).port);
    await first.platform.stop();
    platform = undefined;
    // Something else holds Kio's port now.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, resolve));
    try {
      const settings = parseSettingsTree({
        platform: { dataDir: first.dataDir, basePort: first.basePort, logLevel: 'silent' },
      });
      await expect(startPlatform(settings, { logger: silentLogger(), only: 'kio' })).rejects.toThrow(
        `port ${port} (kio) is in use`,
      );
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    // The failed start released the data directory's lock and closed what it had opened.
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir: first.dataDir, basePort: first.basePort, logLevel: 'silent' },
      }),
      { logger: silentLogger(), only: 'kio' },
    );
    expect((await fetch(`${platform.urls.kio}/health`)).status).toBe(200);
  }, 60_000);
});
