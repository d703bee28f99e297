import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { freePortBlock } from './free-ports.js';
import { type RunningPlatform, startPlatform } from './runtime.js';
import { parseSettingsTree } from './settings.js';

const PETS_API = 'https://pets.example.org/api';

/** The audience rule as every service of a running platform applies it (ADR 0008). */
describe('access token audience across the platform', () => {
  let platform: RunningPlatform;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-audience-'));
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir, basePort, logLevel: 'silent' },
        'token-service': { resourceIndicators: [PETS_API] },
      }),
      { logger: silentLogger() },
    );
  });
  afterAll(async () => {
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const token = async (resource?: string) => {
    const answer = await fetch(`${platform.urls['token-service']}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'zign',
        username: 'jdoe',
        password: 'jdoe-demo',
        scope: 'uid',
        ...(resource ? { resource } : {}),
      }),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { access_token: string }).access_token;
  };
  const teams = (accessToken: string) =>
    fetch(`${platform.urls.teams}/teams`, { headers: { authorization: `Bearer ${accessToken}` } });

  it('services accept tokens for the platform audience and refuse those issued for another resource server', async () => {
    const platformToken = await token();
    expect(decodeJwt(platformToken).aud).toBe(platform.urls['token-service']);
    expect((await teams(platformToken)).status).toBe(200);

    const petsToken = await token(PETS_API);
    expect(decodeJwt(petsToken).aud).toBe(PETS_API);
    const refused = await teams(petsToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
  });
});
