import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../platform/db/database.js';
import { ManualScheduler } from '../platform/jobs/manual-scheduler.js';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE, SERVICE_PORT_OFFSETS } from '../platform/service-context.js';
import type { ServiceModule } from '../platform/service-module.js';
import { configurationDoc } from './configuration-docs.js';
import { freePortBlock } from './free-ports.js';
import { MODULES } from './modules.js';
import { type RunningPlatform, STUPS_DISCOVERY_PATH, startPlatform } from './runtime.js';
import { loadSettings, parseSettingsTree, settingsSections } from './settings.js';

/**
 * "Adding a service is its folder plus one line in MODULES" (issue 12 §1), checked: a module
 * written here, with nothing else touched but MODULES (replaced below by MODULES plus it), gets
 * its settings section, its migrations, a listening app with the kernel's routes, its jobs run
 * by the job runner and its disposal. The module is the whole of the "folder".
 */
const probe = await vi.hoisted(async () => {
  const { z } = await import('zod');
  const { defineModule } = await import('../platform/service-module.js');
  const { createServiceApp } = await import('../platform/http/create-service-app.js');
  const seen = { jobRuns: 0, disposed: 0, teamsContract: false, server: undefined as unknown };
  const module = defineModule({
    // A name the port map already reserves (mint, fullstop, sevenseconds, mai, sandbox, trace).
    name: 'mint',
    migrations: [
      {
        component: 'mint',
        migrations: {
          '001-mint-probe': {
            async up(db) {
              await db.schema
                .createTable('mint_probe')
                .addColumn('id', 'text', (c) => c.primaryKey())
                .execute();
            },
          },
        },
      },
    ],
    settings: z.strictObject({
      greeting: z.string().min(1).default('hello').describe('What GET /greeting answers'),
    }),
    async create(ctx, { settings, contracts }) {
      // Modules earlier in MODULES offer their contracts to later ones.
      seen.teamsContract = typeof contracts.get('teams').isMember === 'function';
      return {
        async app() {
          const app = await createServiceApp(ctx, { service: 'mint', title: 'Mint probe API' });
          app.get(
            '/greeting',
            { schema: { response: { 200: z.object({ greeting: z.string() }) } } },
            async () => ({ greeting: settings.greeting }),
          );
          seen.server = app.server;
          return app;
        },
        jobs: [
          {
            name: 'mint.probe',
            intervalMs: 60_000,
            run: async () => {
              seen.jobRuns++;
            },
          },
        ],
        async dispose() {
          seen.disposed++;
        },
      };
    },
  });
  return { module, seen };
});

// The one line: the real MODULES with the new module appended.
vi.mock('./modules.js', async (importOriginal) => {
  const original = await importOriginal<{ MODULES: readonly ServiceModule[] }>();
  return { MODULES: [...original.MODULES, probe.module] };
});

let platform: RunningPlatform | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await platform?.stop();
  platform = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('adding a service', () => {
  it('is one more entry in MODULES', () => {
    expect(MODULES.at(-1)).toBe(probe.module);
    expect(MODULES.filter((m) => m.name === 'mint')).toHaveLength(1);
  });

  it('gives the module its section in the settings tree, its env variables and its docs', async () => {
    expect(settingsSections().map((s) => s.name)).toContain('mint');
    expect(parseSettingsTree({}).modules.mint).toEqual({ greeting: 'hello' });
    expect(parseSettingsTree({ mint: { greeting: 'hi' } }).modules.mint).toEqual({ greeting: 'hi' });
    expect(() => parseSettingsTree({ mint: { greting: 'hi' } })).toThrow(/mint\.greting: unknown setting/);
    const fromEnv = await loadSettings({ env: { STUPS_MINT__GREETING: 'from env' } });
    expect(fromEnv.modules.mint).toEqual({ greeting: 'from env' });
    expect(configurationDoc()).toMatch(
      /## `mint`[\s\S]*\| `greeting` \| string \| `"hello"` \| `STUPS_MINT__GREETING` \| What GET \/greeting answers \|/,
    );
  });

  it('migrates, listens at its port with /health, /metrics and /openapi.json, runs its jobs and is disposed', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-new-service-'));
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    const scheduler = new ManualScheduler();
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir, basePort, logLevel: 'silent', idleTimeoutSeconds: 30 },
        mint: { greeting: 'hi' },
      }),
      { logger: silentLogger(), only: 'mint', scheduler },
    );
    const url = platform.urls.mint;
    expect(platform.listening).toEqual(['mint']);
    expect(url).toBe(`http://localhost:${basePort + SERVICE_PORT_OFFSETS.mint}`);
    expect(probe.seen.teamsContract).toBe(true);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'UP' });
    expect(await (await fetch(`${url}/greeting`)).json()).toEqual({ greeting: 'hi' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'http_request_duration_seconds_count{service="Mint probe API",method="GET",route="/greeting",status="200"} 1',
    );
    const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, unknown>;
    };
    expect(openapi.info.title).toBe('Mint probe API');
    expect(Object.keys(openapi.paths)).toEqual(['/greeting']);
    const discovery = (await (await fetch(`${url}${STUPS_DISCOVERY_PATH}`)).json()) as {
      services: Record<string, string>;
    };
    expect(discovery.services.mint).toBe(url);
    // The platform's idle bound reached the new service's app through the runtime.
    expect((probe.seen.server as { timeout: number }).timeout).toBe(30_000);

    expect(platform.jobNames).toEqual(['mint.probe']);
    scheduler.fire();
    await platform.jobs.idle();
    expect(probe.seen.jobRuns).toBe(1);

    await platform.stop();
    platform = undefined;
    expect(probe.seen.disposed).toBe(1);
    const database = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    try {
      const db = database.kysely<{ mint_probe: { id: string }; platform_job_ticks: { name: string } }>();
      expect(await db.selectFrom('mint_probe').selectAll().execute()).toEqual([]);
      const ticks = await db.selectFrom('platform_job_ticks').select('name').execute();
      expect(ticks.map((t) => t.name)).toEqual(['mint.probe']);
    } finally {
      await database.destroy();
    }
  }, 60_000);

  it('needs a port-map entry for a name beyond the reserved ones: a second file', () => {
    // A service named outside SERVICE_PORT_OFFSETS does not compile; its port offset is the
    // one edit outside its folder and MODULES (src/platform/service-context.ts).
    // @ts-expect-error 'berry' has no port yet
    const unmapped: ServiceModule['name'] = 'berry';
    expect(Object.keys(SERVICE_PORT_OFFSETS)).not.toContain(unmapped);
  });
});
