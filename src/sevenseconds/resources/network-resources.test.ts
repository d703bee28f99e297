import { describe, expect, it } from 'vitest';
import { cfnLint, cfnLintAvailable } from '../../senza/test-support/cfn-lint.js';
import type { AccountConfig } from '../contract.js';
import { wantedCertificates } from './acm-certificates.js';
import { natGateways } from './nat-gateways.js';
import { oddBastion, oddTemplate, oddUserData } from './odd-bastion.js';
import { routePlans } from './route-tables.js';

const account: AccountConfig = {
  name: 'team-a',
  id: '111111111111',
  alias: 'team-a',
  environment: 'production',
  regions: ['eu-west-1'],
  admin_account: 'team-a',
  domain: 'team-a.example.org',
  trusted_networks: { office: '10.0.0.0/8', vpn: '192.168.0.0/24' },
  bastion: { ami_config: { application_id: 'odd', vpc_net: '{vpc_net}', region: '{region}' } },
};

const azs = ['eu-west-1a', 'eu-west-1b'];
const subnet = (id: string, cidr: string, az: string) => ({
  SubnetId: id,
  CidrBlock: cidr,
  AvailabilityZone: az,
});
/** The region with the VPC and its default subnets made, nothing else yet. */
const bare = {
  vpc: { VpcId: 'vpc-1', CidrBlock: '172.31.0.0/16' },
  azs,
  subnets: [
    subnet('subnet-d1', '172.31.0.0/21', 'eu-west-1a'),
    subnet('subnet-d2', '172.31.8.0/21', 'eu-west-1b'),
    subnet('subnet-i1', '172.31.128.0/20', 'eu-west-1a'),
    subnet('subnet-i2', '172.31.144.0/20', 'eu-west-1b'),
  ],
  gateways: [],
  tables: [{ RouteTableId: 'rtb-main', Associations: [{ Main: true }], Routes: [] }],
  internetGatewayId: 'igw-1',
};

describe('network resources (pure)', () => {
  it('the odd template passes cfn-lint without a finding', async () => {
    if (!cfnLintAvailable()) return;
    const withoutDomain = { ...account, domain: undefined, trusted_networks: {} };
    const findings = await cfnLint(
      new Map([
        ['odd', oddTemplate(account, 'eu-west-1')],
        ['odd-without-domain', oddTemplate(withoutDomain, 'eu-central-1')],
      ]),
    );
    expect(findings).toEqual([]);
  }, 60_000);

  it('the odd template: SSH from each trusted network, the DNS record, the Taupage user data', () => {
    const t = oddTemplate(account, 'eu-west-1') as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    expect(t.Resources.OddSecurityGroup!.Properties.SecurityGroupIngress).toEqual([
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '10.0.0.0/8', Description: 'SSH from office' },
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '192.168.0.0/24', Description: 'SSH from vpn' },
    ]);
    expect(t.Resources.OddDnsRecord!.Properties.Name).toBe('odd-eu-west-1.team-a.example.org.');
    expect(oddUserData(account, 'eu-west-1')).toBe(
      '#taupage-ami-config\napplication_id: odd\nvpc_net: 172.31.0.0/16\nregion: eu-west-1\n',
    );
  });

  it('odd: unchanged when template and parameters match; a newer image is one update naming it', () => {
    const odd = { ...account, enable_odd: true, base_ami: { account_name: 'team-a' } };
    const stackWith = (image: string) => ({
      network: bare,
      imageId: 'ami-new',
      template: JSON.parse(JSON.stringify(oddTemplate(odd, 'eu-west-1'))) as unknown,
      stack: {
        StackName: 'Odd',
        StackStatus: 'UPDATE_COMPLETE' as const,
        CreationTime: new Date(),
        Parameters: Object.entries({
          TaupageId: image,
          InstanceType: 't3.micro',
          SubnetId: 'subnet-d2',
          VpcId: 'vpc-1',
        }).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
      },
    });
    expect(oddBastion.diff(odd, new Map([['eu-west-1', stackWith('ami-new')]]))).toEqual([]);
    expect(oddBastion.diff(odd, new Map([['eu-west-1', stackWith('ami-old')]])).map((c) => c.detail)).toEqual(
      ['update stack Odd: TaupageId ami-old → ami-new'],
    );
    const failed = {
      ...stackWith('ami-new'),
      stack: { ...stackWith('ami-new').stack, StackStatus: 'ROLLBACK_COMPLETE' as const },
    };
    expect(() => oddBastion.diff(odd, new Map([['eu-west-1', failed]]))).toThrow(
      /^stack Odd in eu-west-1 is ROLLBACK_COMPLETE; run again once it is settled, or delete it if it failed$/,
    );
  });

  it('NAT: one gateway per dmz subnet lacking one; enable_nat: false plans none', () => {
    const current = new Map([
      ['eu-west-1', { ...bare, gateways: [{ NatGatewayId: 'nat-1', SubnetId: 'subnet-d1' }] }],
    ]);
    expect(natGateways.diff(account, current).map((c) => `${c.resource}: ${c.detail}`)).toEqual([
      'nat-gateway/eu-west-1/eu-west-1b: create NAT gateway with an Elastic IP in dmz-eu-west-1b (172.31.8.0/21)',
    ]);
    expect(natGateways.diff({ ...account, enable_nat: false }, current)).toEqual([]);
  });

  it('routes: main table to the internet gateway, each internal subnet to its zone NAT', () => {
    const withNat = {
      ...bare,
      gateways: [
        { NatGatewayId: 'nat-1', SubnetId: 'subnet-d1' },
        { NatGatewayId: 'nat-2', SubnetId: 'subnet-d2' },
      ],
    };
    const plans = routePlans(account, 'eu-west-1', withNat);
    expect(plans.map((p) => [p.key, p.table?.RouteTableId, p.route?.target, p.associate])).toEqual([
      ['dmz', 'rtb-main', { kind: 'igw', id: 'igw-1' }, []],
      [
        'internal-eu-west-1a',
        undefined,
        { kind: 'nat', az: 'eu-west-1a', id: 'nat-1' },
        [{ name: 'internal-eu-west-1a', subnetId: 'subnet-i1' }],
      ],
      [
        'internal-eu-west-1b',
        undefined,
        { kind: 'nat', az: 'eu-west-1b', id: 'nat-2' },
        [{ name: 'internal-eu-west-1b', subnetId: 'subnet-i2' }],
      ],
    ]);
    // A blackholed default route is replaced; a right one is left alone.
    const converged: Parameters<typeof routePlans>[2] = {
      ...withNat,
      tables: [
        {
          RouteTableId: 'rtb-main',
          Associations: [{ Main: true }],
          Tags: [{ Key: 'Name', Value: 'DMZ Routing Table' }],
          Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' }],
        },
        ...(['a', 'b'] as const).map((z, i) => ({
          RouteTableId: `rtb-${z}`,
          Tags: [{ Key: 'Name', Value: `internal-eu-west-1${z}` }],
          Associations: [{ SubnetId: `subnet-i${i + 1}`, RouteTableAssociationId: `rtbassoc-${z}` }],
          Routes: [
            {
              DestinationCidrBlock: '0.0.0.0/0',
              NatGatewayId: `nat-${i + 1}`,
              State: z === 'a' ? ('active' as const) : ('blackhole' as const),
            },
          ],
        })),
      ],
    };
    const again = routePlans(account, 'eu-west-1', converged).filter(
      (p) => p.route || p.retag || p.associate.length,
    );
    expect(again.map((p) => [p.key, p.route])).toEqual([
      ['internal-eu-west-1b', { target: { kind: 'nat', az: 'eu-west-1b', id: 'nat-2' }, replace: true }],
    ]);
  });

  it('ACM: the default certificate is *.<domain> and <domain>, validated in the account zone', () => {
    expect(wantedCertificates({ ...account, acm: { wildcard: {} } })).toEqual([
      {
        key: 'wildcard',
        region: 'eu-west-1',
        domainName: '*.team-a.example.org',
        names: ['*.team-a.example.org', 'team-a.example.org'],
        zone: 'team-a.example.org',
      },
    ]);
    expect(
      wantedCertificates({
        ...account,
        acm: { api: { domain_name: 'api.example.org', validation_domain: 'example.org' } },
      }).map((w) => [w.names, w.zone]),
    ).toEqual([[['api.example.org'], 'example.org']]);
  });
});
