import { mkdtemp, readFile, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chooseProfile,
  deleteProfile,
  generatedProfileName,
  loadMaiConfig,
  loginNeeded,
  putProfile,
  readLastUpdate,
  saveMaiConfig,
  setDefaultProfile,
  writeLastUpdate,
} from './mai-config.js';

const stupsFile = `# written by STUPS mai 1.0.10
global:
  default_profile: prod
prod:
  saml_identity_provider_url: idp.example.org
  saml_role:
  - arn:aws:iam::111111111111:saml-provider/Shibboleth
  - arn:aws:iam::111111111111:role/Shibboleth-PowerUser
  - team-prod
  saml_user: jdoe  # my login
dev:
  saml_identity_provider_url: https://idp.example.org
  saml_role: [arn:aws:iam::2:saml-provider/Shibboleth, arn:aws:iam::2:role/Shibboleth-ReadOnly, team-dev]
`;

describe('mai.yaml', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'mai-home-'));
    env = { HOME: home };
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  async function writeConfig(text: string) {
    await mkdir(join(home, '.config', 'mai'), { recursive: true });
    await writeFile(join(home, '.config', 'mai', 'mai.yaml'), text);
  }

  it("reads STUPS Mai's file: profiles sorted, default, https added to a bare host", async () => {
    await writeConfig(stupsFile);
    const config = await loadMaiConfig(env);
    expect(config.defaultProfile).toBe('prod');
    expect(config.profiles.map((p) => p.name)).toEqual(['dev', 'prod']);
    expect(chooseProfile(config)).toMatchObject({
      name: 'prod',
      saml_identity_provider_url: 'https://idp.example.org',
      saml_user: 'jdoe',
      saml_role: [
        'arn:aws:iam::111111111111:saml-provider/Shibboleth',
        'arn:aws:iam::111111111111:role/Shibboleth-PowerUser',
        'team-prod',
      ],
    });
    expect(chooseProfile(config, 'dev').saml_user).toBeUndefined();
    expect(() => chooseProfile(config, 'nope')).toThrow(
      'profile "nope" does not exist (profiles: dev, prod)',
    );
  });

  it('without profiles says how to create one; without a default takes the first', async () => {
    const empty = await loadMaiConfig(env);
    expect(() => chooseProfile(empty)).toThrow(
      'No profile configured. Use "mai create .." to create a new profile.',
    );
    await writeConfig(stupsFile.replace(/global:\n {2}default_profile: prod\n/, ''));
    expect(chooseProfile(await loadMaiConfig(env)).name).toBe('dev');
  });

  it('names the file and the profile when a profile is malformed', async () => {
    await writeConfig('broken:\n  saml_identity_provider_url: x\n  saml_role: [a, b]\n');
    await expect(loadMaiConfig(env)).rejects.toThrow(
      /mai\.yaml: profile "broken": saml_role must be \[provider ARN, role ARN, account name\]/,
    );
    await writeConfig('a: [unclosed\n');
    await expect(loadMaiConfig(env)).rejects.toThrow(/mai\.yaml: /);
  });

  it('adds, replaces and deletes profiles and sets the default, keeping comments', async () => {
    await writeConfig(stupsFile);
    const config = await loadMaiConfig(env);
    putProfile(config, {
      name: 'sandbox',
      saml_identity_provider_url: 'https://stups.example.org',
      saml_role: ['arn:aws:iam::3:oidc-provider/stups', 'arn:aws:iam::3:role/PowerUser', 'sandbox-jdoe'],
    });
    expect(deleteProfile(config, 'dev')).toBe(true);
    expect(deleteProfile(config, 'dev')).toBe(false);
    setDefaultProfile(config, 'sandbox');
    await saveMaiConfig(config);
    const text = await readFile(config.file, 'utf8');
    expect(text).toContain('# written by STUPS mai 1.0.10');
    expect(text).toContain('saml_user: jdoe # my login');
    expect((await stat(config.file)).mode & 0o777).toBe(0o600);
    const again = await loadMaiConfig(env);
    expect(again.defaultProfile).toBe('sandbox');
    expect(again.profiles.map((p) => p.name)).toEqual(['prod', 'sandbox']);
  });

  it('creates the file from nothing', async () => {
    const config = await loadMaiConfig(env);
    putProfile(config, {
      name: 'p',
      saml_identity_provider_url: 'https://idp',
      saml_role: ['p', 'r', 'a'],
      saml_user: 'u',
    });
    await saveMaiConfig(config);
    expect((await loadMaiConfig(env)).profiles).toEqual([
      { name: 'p', saml_identity_provider_url: 'https://idp', saml_role: ['p', 'r', 'a'], saml_user: 'u' },
    ]);
  });

  it('last_update.yaml and the 54-minute rule of mai require', async () => {
    expect(await readLastUpdate(env)).toBeUndefined();
    await writeLastUpdate(env, { timestamp: 1_000_000.5, profile: 'prod' });
    const last = await readLastUpdate(env);
    expect(last).toEqual({ timestamp: 1_000_000.5, profile: 'prod' });
    expect(loginNeeded(last, 'prod', 1_000_000.5 + 3239)).toBe(false);
    expect(loginNeeded(last, 'prod', 1_000_000.5 + 3240)).toBe(true);
    expect(loginNeeded(last, 'dev', 1_000_001)).toBe(true);
    expect(loginNeeded(undefined, 'prod', 0)).toBe(true);
  });

  it("create-all's profile names, as STUPS Mai built them", () => {
    expect(generatedProfileName('team-prod', 'arn:aws:iam::1:role/Shibboleth-PowerUser')).toBe(
      'prod-PowerUser',
    );
    expect(generatedProfileName('sandbox', 'arn:aws:iam::1:role/ReadOnly')).toBe('sandbox-ReadOnly');
  });
});
