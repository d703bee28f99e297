import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/errors.js';
import { redactSecrets, REDACTED } from '../platform/settings/redact.js';
import { PlatformConfigSchema, portOf } from './platform-config.js';
import { loadSettings } from './settings.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stups-settings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The problems a ConfigError lists, or a failure when loading succeeded. */
async function problemsOf(promise: Promise<unknown>): Promise<readonly string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe('the settings tree', () => {
  it('has every default with no file and no environment', async () => {
    const settings = await loadSettings({ env: { HOME: dir } });
    expect(settings.platform).toMatchObject({ host: '127.0.0.1', basePort: 8090, logLevel: 'info' });
    expect(settings.modules['token-service']).toMatchObject({ accessTokenLifetimeSeconds: 3600 });
    expect(settings.modules.pierone).toMatchObject({
      maxManifestBytes: 4 * 1024 * 1024,
      uploadPurge: { intervalSeconds: 3600 },
    });
    expect(settings.modules.even).toMatchObject({ ssh: { port: 22 }, expiryCheckIntervalMs: 30_000 });
  });

  it('layers file < classic env < STUPS_<SECTION>__<SETTING> < flags', async () => {
    const file = await yamlFile(
      'layers.yaml',
      [
        'platform: { host: 0.0.0.0, basePort: 9000, logLevel: debug }',
        'token-service: { accessTokenLifetimeSeconds: 600, maxFailedLogins: 3 }',
        'pierone: { publicTeams: [from-file], anonymousPull: true }',
        'even: { ssh: { user: from-file } }',
      ].join('\n'),
    );
    const settings = await loadSettings({
      configFile: file,
      env: {
        HOME: dir,
        STUPS_BASE_PORT: '9100',
        STUPS_PIERONE_PUBLIC_TEAMS: 'a, b',
        STUPS_EVEN_CONFIG: '{"maxLifetimeMinutes": 120}',
        STUPS_EVEN_SSH_KEY_FILE: '/keys/even',
        STUPS_URL_KIO: 'https://kio.example.org/',
        STUPS_TOKEN_SERVICE__MAX_FAILED_LOGINS: '5',
        STUPS_EVEN__SSH__PORT: '2222',
        STUPS_PIERONE__ANONYMOUS_PULL: 'false',
        STUPS_KIO__SEARCH__DEFAULT_LIMIT: '20',
        STUPS_ESSENTIALS__VALID_RESOURCE_OWNERS: 'employees,services',
        AWS_REGION: 'eu-central-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      },
      flags: { platform: { logLevel: 'warn', dataDir: undefined } },
    });
    expect(settings.platform).toMatchObject({
      host: '0.0.0.0',
      basePort: 9100,
      logLevel: 'warn',
      urls: { kio: 'https://kio.example.org' },
      aws: { region: 'eu-central-1', endpoint: 'http://127.0.0.1:4566' },
    });
    expect(settings.modules['token-service']).toMatchObject({
      accessTokenLifetimeSeconds: 600,
      maxFailedLogins: 5,
    });
    expect(settings.modules.pierone).toMatchObject({ publicTeams: ['a', 'b'], anonymousPull: false });
    expect(settings.modules.even).toMatchObject({
      maxLifetimeMinutes: 120,
      sshKeyFile: '/keys/even',
      ssh: { user: 'from-file', port: 2222 },
    });
    expect(settings.modules.kio).toEqual({ search: { candidateLimit: 1000, defaultLimit: 20 } });
    expect(settings.modules.essentials).toEqual({ validResourceOwners: ['employees', 'services'] });
  });

  it('reads the file named by STUPS_CONFIG', async () => {
    const file = await yamlFile('env-named.yaml', 'pierone: { maxManifestBytes: 1024 }\n');
    const settings = await loadSettings({ env: { HOME: dir, STUPS_CONFIG: file } });
    expect(settings.modules.pierone).toMatchObject({ maxManifestBytes: 1024 });
  });

  it('lists every problem as path: message', async () => {
    const file = await yamlFile(
      'bad.yaml',
      [
        'platform: { basePort: 70000, tlsCert: /c.pem, bogus: 1 }',
        'kio: { search: { defaultLimit: 0 } }',
        'even: { defaultLifetimeMinutes: x }',
        'trace: {}',
      ].join('\n'),
    );
    const problems = await problemsOf(
      loadSettings({
        configFile: file,
        env: {
          HOME: dir,
          DATABASE_URL: 'postgres://db/stups',
          STUPS_EXTERNAL_ISSUERS: 'not json',
          STUPS_TOKEN_SERVICE__NO_SUCH: '1',
          STUPS_NOPE__X: '1',
        },
      }),
    );
    expect(problems).toEqual([
      'STUPS_TOKEN_SERVICE__NO_SUCH: token-service has no setting no_such',
      expect.stringMatching(/^STUPS_NOPE__X: no such setting/),
      'STUPS_EXTERNAL_ISSUERS: must be a JSON array of {issuer, audience, jwksUri?, realm?, realmClaim?, uidClaim?, timeoutMs?}',
      expect.stringMatching(/^trace: unknown section; sections are platform, teams, users, token-service/),
      'platform.basePort: Too big: expected number to be <=65000',
      'platform.bogus: unknown setting',
      'kio.search.defaultLimit: Too small: expected number to be >=1',
      'even.defaultLifetimeMinutes: Invalid input: expected number, received string',
    ]);
  });

  it("reports a module's checks across fields before anything starts", async () => {
    const problems = await problemsOf(
      loadSettings({
        env: {
          HOME: dir,
          STUPS_EVEN_CONFIG:
            '{"hostnameTemplates": ["odd-{region}.example.org"], "defaultLifetimeMinutes": 90, "maxLifetimeMinutes": 60}',
        },
      }),
    );
    expect(problems).toEqual([
      'even.hostnameTemplates.0: template "odd-{region}.example.org" needs a {team} placeholder',
      'even.defaultLifetimeMinutes: must not exceed maxLifetimeMinutes',
    ]);
  });

  it('checks settings that depend on each other', async () => {
    const problems = await problemsOf(
      loadSettings({
        env: { HOME: dir, DATABASE_URL: 'postgres://db/stups' },
        flags: { platform: { tlsKey: '/k' } },
      }),
    );
    expect(problems).toEqual([
      'platform.tlsCert/tlsKey: give both a certificate and a key, or neither',
      expect.stringMatching(/^platform\.keyEncryptionSecret: set STUPS_KEY_ENCRYPTION_SECRET/),
    ]);
  });

  it('reports a file that is missing or not a mapping', async () => {
    expect(
      await problemsOf(loadSettings({ configFile: join(dir, 'missing.yaml'), env: { HOME: dir } })),
    ).toEqual([`${join(dir, 'missing.yaml')}: cannot be read (ENOENT)`]);
    const list = await yamlFile('list.yaml', '- a\n- b\n');
    expect(await problemsOf(loadSettings({ configFile: list, env: { HOME: dir } }))).toEqual([
      expect.stringMatching(/list\.yaml: must be a mapping of sections/),
    ]);
  });

  it('redacts secrets', () => {
    const platform = PlatformConfigSchema.parse({
      databaseUrl: 'postgres://u:pw@db/stups',
      keyEncryptionSecret: 'x'.repeat(20),
    });
    expect(redactSecrets(PlatformConfigSchema, platform)).toMatchObject({
      databaseUrl: REDACTED,
      keyEncryptionSecret: REDACTED,
      host: '127.0.0.1',
    });
  });

  it('gives ports by service name, not by list position', () => {
    expect(portOf({ basePort: 8090 }, 'console')).toBe(8090);
    expect(portOf({ basePort: 8090 }, 'token-service')).toBe(8091);
    expect(portOf({ basePort: 8090 }, 'even')).toBe(8097);
    expect(portOf({ basePort: 8090 }, 'mint')).toBe(8098);
    expect(portOf({ basePort: 8090 }, 'trace')).toBe(8103);
  });
});
