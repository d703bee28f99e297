import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig, awsSettingsFromEnv } from './client-config.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'aws-home-'));
  await writeFile(
    join(home, 'config'),
    '[default]\nregion = eu-west-1\n\n[profile prod]\nregion = eu-central-1\n',
  );
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('AWS settings', () => {
  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION, then the profile in the config file', () => {
    const file = { HOME: home, AWS_CONFIG_FILE: join(home, 'config') };
    expect(awsSettingsFromEnv({ ...file, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'x' })).toEqual({
      region: 'us-east-1',
    });
    expect(awsSettingsFromEnv({ ...file, AWS_DEFAULT_REGION: 'ap-south-1' })).toEqual({
      region: 'ap-south-1',
    });
    expect(awsSettingsFromEnv(file)).toEqual({ region: 'eu-west-1' });
    expect(awsSettingsFromEnv({ ...file, AWS_PROFILE: 'prod' })).toEqual({
      region: 'eu-central-1',
      profile: 'prod',
    });
    expect(awsSettingsFromEnv({ HOME: home })).toEqual({});
  });

  it('gives every client the endpoint, and S3 its own with path-style addressing', () => {
    const settings = awsSettingsFromEnv({
      HOME: home,
      AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
    });
    expect(awsClientConfig(settings)).toEqual({
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:4566',
      maxAttempts: 3,
    });
    expect(awsClientConfig(settings, 's3')).toEqual({
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      maxAttempts: 3,
    });
    expect(awsClientConfig({ region: 'eu-west-1' }, 's3')).toEqual({ region: 'eu-west-1', maxAttempts: 3 });
  });
});
