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
    // A name the port map already reserves (fullstop, sevenseconds, mai, sandbox, trace; mint is built now).
    name: 'trace',
    migrations: [
      {
        component: 'trace',
        migrations: {
          '001-trace-probe': {
            async up(db) {
              await db.schema
                .createTable('trace_probe')
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
          const app = await createServiceApp(ctx, { service: 'trace', title: 'Trace probe API' });
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
            name: 'trace.probe',
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
    expect(MODULES.filter((m) => m.name === 'trace')).toHaveLength(1);
  });

  it('gives the module its section in the settings tree, its env variables and its docs', async () => {
    expect(settingsSections().map((s) => s.name)).toContain('trace');
    expect(parseSettingsTree({}).modules.trace).toEqual({ greeting: 'hello' });
    expect(parseSettingsTree({ trace: { greeting: 'hi' } }).modules.trace).toEqual({ greeting: 'hi' });
    expect(() => parseSettingsTree({ trace: { greting: 'hi' } })).toThrow(/trace\.greting: unknown setting/);
    const fromEnv = await loadSettings({ env: { STUPS_TRACE__GREETING: 'from env' } });
    expect(fromEnv.modules.trace).toEqual({ greeting: 'from env' });
    expect(configurationDoc()).toMatch(
      /## `trace`[\s\S]*\| `greeting` \| string \| `"hello"` \| `STUPS_TRACE__GREETING` \| What GET \/greeting answers \|/,
    );
  });

  it('migrates, listens at its port with /health, /metrics and /openapi.json, runs its jobs and is disposed', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-new-service-'));
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    const scheduler = new ManualScheduler();
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir, basePort, logLevel: 'silent', idleTimeoutSeconds: 30 },
        trace: { greeting: 'hi' },
      }),
      { logger: silentLogger(), only: 'trace', scheduler },
    );
    const url = platform.urls.trace;
    expect(platform.listening).toEqual(['trace']);
    expect(url).toBe(`http://localhost:${basePort + SERVICE_PORT_OFFSETS.trace}`);
    expect(probe.seen.teamsContract).toBe(true);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'UP' });
    expect(await (await fetch(`${url}/greeting`)).json()).toEqual({ greeting: 'hi' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'http_request_duration_seconds_count{service="Trace probe API",method="GET",route="/greeting",status="200"} 1',
    );
    const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, unknown>;
    };
    expect(openapi.info.title).toBe('Trace probe API');
    expect(Object.keys(openapi.paths)).toEqual(['/greeting']);
    const discovery = (await (await fetch(`${url}${STUPS_DISCOVERY_PATH}`)).json()) as {
      services: Record<string, string>;
    };
    expect(discovery.services.trace).toBe(url);
    // The platform's idle bound reached the new service's app through the runtime.
    expect((probe.seen.server as { timeout: number }).timeout).toBe(30_000);

    expect(platform.jobNames).toEqual(['trace.probe']);
    scheduler.fire();
    await platform.jobs.idle();
    expect(probe.seen.jobRuns).toBe(1);

    await platform.stop();
    platform = undefined;
    expect(probe.seen.disposed).toBe(1);
    const database = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    try {
      const db = database.kysely<{ trace_probe: { id: string }; platform_job_ticks: { name: string } }>();
      expect(await db.selectFrom('trace_probe').selectAll().execute()).toEqual([]);
      const ticks = await db.selectFrom('platform_job_ticks').select('name').execute();
      expect(ticks.map((t) => t.name)).toEqual(['trace.probe']);
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
