import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InputError } from '../platform/errors.js';
import { TAUPAGE_OPTIONS } from './config-schema.js';
import { renderUserData } from './user-data.js';
import { validateTaupageConfig } from './validate.js';

const base = {
  application_id: 'my-app',
  application_version: '1.0',
  runtime: 'Docker',
  source: 'stups/hello:1',
};

describe('Taupage config', () => {
  it('accepts the documented options and keeps aws:kms: values verbatim', () => {
    const config = validateTaupageConfig({
      ...base,
      environment: { DB_PASSWORD: 'aws:kms:AQICAH==' },
      scalyr_account_key: 'aws:kms:XYZ',
      ports: { 80: 80, '8301/udp': 8301, 8600: '8600/udp' },
      ssh_gateway_ports: false,
    });
    expect(config.environment?.DB_PASSWORD).toBe('aws:kms:AQICAH==');
    const text = renderUserData(config) as string;
    expect(text.split('\n')[0]).toBe('#taupage-ami-config');
    expect(parse(text)).toMatchObject({
      environment: { DB_PASSWORD: 'aws:kms:AQICAH==' },
      scalyr_account_key: 'aws:kms:XYZ',
      ports: { 80: 80 },
    });
    expect(TAUPAGE_OPTIONS).toContain('appdynamics_application');
  });

  it('reports every problem as path: message, unknown options as warnings', () => {
    let error: unknown;
    const warnings: string[] = [];
    try {
      validateTaupageConfig(
        {
          ...base,
          application_id: 'My_App',
          runtime: 'Rkt',
          root: 'yes',
          mounts: {
            data: { partition: '/dev/xvdb' },
            '/ok': { partition: '/dev/xvdc', erase_on_boot: 'sometimes' },
          },
          volumes: { raid: { '/dev/md/r': { level: 3, devices: ['/dev/xvdf'] } } },
          logging: { log_destination: 'kafka' },
          typo_option: 1,
        },
        'TaupageConfig',
        (w) => warnings.push(w),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message.split('\n').sort()).toEqual(
      [
        'TaupageConfig.runtime: Taupage only supports the "Docker" runtime',
        'TaupageConfig.root: expected true or false',
        'TaupageConfig.volumes.raid./dev/md/r.level: expected a RAID level: 0, 1, 4, 5, 6 or 10',
        'TaupageConfig.volumes.raid./dev/md/r.devices: a RAID volume needs at least 2 devices',
        'TaupageConfig.mounts.data: expected an absolute mount point',
        'TaupageConfig.mounts./ok.erase_on_boot: expected true or false',
        'TaupageConfig.logging.log_destination: expected one of s3, rsyslog, scalyr, scalyr_s3, none',
        // Checked together with the schema, not only when everything else is right.
        'TaupageConfig.application_id: must match ^[a-z][a-z0-9-]*[a-z0-9]$',
      ].sort(),
    );
    expect(warnings).toEqual(['TaupageConfig.typo_option: unknown option: passed to Taupage unchanged']);
    expect(() => validateTaupageConfig({ ...base, application_id: 'My_App' })).toThrow(
      'TaupageConfig.application_id: must match ^[a-z][a-z0-9-]*[a-z0-9]$',
    );
    expect(() => validateTaupageConfig({ runtime: 'Docker' })).toThrow(
      'TaupageConfig.application_id: required',
    );
  });

  it('splices CloudFormation functions into the user data with Fn::Join', () => {
    const rendered = renderUserData({
      ...base,
      environment: { BUCKET: { Ref: 'Bucket' }, HOST: { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] } },
    });
    expect(rendered).toEqual({
      'Fn::Join': [
        '',
        [
          '#taupage-ami-config\napplication_id: my-app\napplication_version: "1.0"\nruntime: Docker\nsource: stups/hello:1\nenvironment:\n  BUCKET: ',
          { Ref: 'Bucket' },
          '\n  HOST: ',
          { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] },
          '\n',
        ],
      ],
    });
  });
});
