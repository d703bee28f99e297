import { describe, expect, it } from 'vitest';
import type { AccountConfig } from '../contract.js';
import { ebsEncryption } from './ebs-encryption.js';
import { kmsKeys } from './kms-keys.js';
import { securityGroups, wantedRules } from './security-groups.js';

const account: AccountConfig = {
  name: 'team-a',
  id: '111111111111',
  alias: 'team-a',
  environment: 'production',
  regions: ['eu-west-1'],
  admin_account: 'team-a',
  trusted_networks: { office: '10.0.0.0/8' },
  security_groups: {
    ssh: { allow_from_trusted: true, ip_permissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22 }] },
  },
};

describe('per-region diffs (pure)', () => {
  it('security groups: trusted networks expand, an extra source is revoked, a missing one added', () => {
    expect(wantedRules(account, 'ssh')).toEqual([{ protocol: 'tcp', from: 22, to: 22, cidr: '10.0.0.0/8' }]);
    const current = new Map([
      [
        'eu-west-1',
        {
          vpcId: 'vpc-1',
          groups: [
            {
              GroupId: 'sg-1',
              GroupName: 'ssh',
              IpPermissions: [
                { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
              ],
            },
          ],
        },
      ],
    ]);
    expect(securityGroups.diff(account, current).map((c) => c.detail)).toEqual([
      '+tcp 22 from 10.0.0.0/8, -tcp 22 from 0.0.0.0/0',
    ]);
  });

  it('security groups: a permission without a source fails with its path', () => {
    const bad = { ...account, trusted_networks: {} };
    expect(() => wantedRules(bad, 'ssh')).toThrow(/^security_groups\.ssh\.ip_permissions\.0: no source/);
  });

  it('ebs: an absent key plans nothing; a differing one is one change', () => {
    expect(ebsEncryption.diff(account, new Map([['eu-west-1', false]]))).toEqual([]);
    const on = { ...account, ebs_encrypt_by_default: true };
    expect(ebsEncryption.diff(on, new Map([['eu-west-1', true]]))).toEqual([]);
    expect(ebsEncryption.diff(on, new Map([['eu-west-1', false]])).map((c) => c.detail)).toEqual([
      'enable EBS encryption by default',
    ]);
  });

  it('kms: a changed key policy is one update; a dropped key is a delete; a spelling difference is none', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow' as const, Action: 'kms:*', Resource: '*' }],
    };
    const withKey = { ...account, kms: { 'alias/k': { key_policy: policy } } };
    const same = new Map([
      [
        'eu-west-1',
        new Map([['alias/k', { keyId: 'k1', policy: { ...policy, Statement: policy.Statement[0] } }]]),
      ],
    ]);
    expect(kmsKeys.diff(withKey, same)).toEqual([]);
    const other = new Map([
      ['eu-west-1', new Map([['alias/k', { keyId: 'k1', policy: { ...policy, Statement: [] } }]])],
    ]);
    expect(kmsKeys.diff(withKey, other).map((c) => `${c.action} ${c.detail}`)).toEqual(['update key policy']);
    const dropped = { ...account, kms: { 'alias/k': { drop: true } } };
    expect(kmsKeys.diff(dropped, other).map((c) => c.action)).toEqual(['delete']);
    expect(kmsKeys.diff(dropped, new Map())).toEqual([]);
  });
});
