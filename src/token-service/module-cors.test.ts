import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { ManualScheduler } from '../platform/jobs/manual-scheduler.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { freePortBlock } from '../stups/free-ports.js';
import { type RunningPlatform, startPlatform } from '../stups/runtime.js';
import { parseSettingsTree } from '../stups/settings.js';

let platform: RunningPlatform | undefined;
let dataDir: string | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'stups-token-cors-'));
  const basePort = await freePortBlock(PORT_BLOCK_SIZE);
  platform = await startPlatform(
    parseSettingsTree({
      platform: { dataDir, basePort, logLevel: 'silent' },
      'token-service': { corsAllowedOrigins: ['https://app.example.org'] },
    }),
    { logger: silentLogger(), only: 'token-service', scheduler: new ManualScheduler() },
  );
}, 60_000);
afterAll(async () => {
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `stups up` lets the console's own origin call the token service besides the configured ones. */
it("allows the console's origin and the configured ones, no other", async () => {
  const preflight = (origin: string) =>
    fetch(`${platform!.urls['token-service']}/oauth2/token`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
  const consoleOrigin = new URL(platform!.urls.console).origin;
  for (const origin of [consoleOrigin, 'https://app.example.org']) {
    const response = await preflight(origin);
    expect(response.status, origin).toBe(204);
    expect(response.headers.get('access-control-allow-origin'), origin).toBe(origin);
  }
  const stranger = await preflight('https://stranger.example.net');
  expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
});
