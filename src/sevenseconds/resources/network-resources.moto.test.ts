import { DescribeCertificateCommand, ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeImageAttributeCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../../senza/test-support/moto.js';
import type { AccountReport } from '../contract.js';
import { motoAccountConfig, runSevenseconds } from '../test-support/run-sevenseconds.js';
import { accountId, structureYaml, teamName } from '../test-support/structure.js';

// NAT gateways, routes, AMI launch permissions, the odd stack and ACM on moto_server.
const FIRST = 310000000000;
// moto starts every account with the same Taupage images (MOTO_AMIS_PATH), all owned by its own
// account id, so the owner is named here; on AWS it is the AMI account's id (the default).
const EXTRA = `  domain: '{account_name}.example.org'
  base_ami:
    account_name: state
    owner_id: '${MOTO_ACCOUNT}'
  enable_odd: true
  bastion:
    ami_config: {application_id: odd, source: 'registry.example.org/stups/odd:1', vpc_net: '{vpc_net}'}
  trusted_networks:
    office: 10.10.0.0/16
  acm:
    wildcard: {}
`;

describe.skipIf(skipWithoutMoto())('sevenseconds network resources against moto_server', () => {
  let moto: RunningMoto;
  const sound = structureYaml({ teams: 1, firstId: FIRST, endpointRegion: MOTO_REGION, extraGlobal: EXTRA });
  const state = accountId(FIRST, 0);
  const team1 = accountId(FIRST, 1);

  beforeAll(async () => {
    moto = await startMoto();
    // The parent zone the account zones are delegated from lives in the admin account.
    const route53 = new Route53Client(await motoAccountConfig(moto.endpoint, state));
    await route53.send(new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'parent' }));
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const sevenseconds = (args: string[], yaml = sound) => runSevenseconds(moto.endpoint, args, yaml);
  const configIn = (id: string) => motoAccountConfig(moto.endpoint, id);
  const networkChanges = (reports: AccountReport[], account: string) =>
    reports
      .find((x) => x.account === account)!
      .changes.filter((c) => /^(acm|ami-launch-permission|nat-gateway|route-table|odd)\//.test(c.resource))
      .map((c) => `${c.action} ${c.resource}: ${c.detail}`);

  it('plan shows every network resource and makes no changing call', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect(r.err).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const azs = ['a', 'b', 'c'].map((z) => `${MOTO_REGION}${z}`);
    expect(networkChanges(JSON.parse(r.out) as AccountReport[], teamName(1))).toEqual([
      `create acm/${MOTO_REGION}/wildcard: request certificate for *.team-01.example.org, team-01.example.org, validated by DNS in team-01.example.org`,
      `update ami-launch-permission/${MOTO_REGION}: let ${team1} launch ${TAUPAGE_IMAGES.latest.id} (${TAUPAGE_IMAGES.latest.name}), ${TAUPAGE_IMAGES.old.id} (${TAUPAGE_IMAGES.old.name})`,
      ...azs.map(
        (az, i) =>
          `create nat-gateway/${MOTO_REGION}/${az}: create NAT gateway with an Elastic IP in dmz-${az} (172.31.${i * 8}.0/21)`,
      ),
      `update route-table/${MOTO_REGION}/dmz: the new VPC's main table: tag Name=DMZ Routing Table, route 0.0.0.0/0 → internet gateway`,
      ...azs.map(
        (az) =>
          `create route-table/${MOTO_REGION}/internal-${az}: create internal-${az} with route 0.0.0.0/0 → NAT gateway of ${az}, associate internal-${az}`,
      ),
      `create odd/${MOTO_REGION}: create stack Odd: t3.micro from ${TAUPAGE_IMAGES.latest.id} in the first dmz subnet, SSH from office, odd-${MOTO_REGION}.team-01.example.org`,
    ]);
    expect(r.changing).toEqual([]);
  }, 60_000);

  it('configure makes them; plan and configure again change nothing', async () => {
    const r = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(r.out + r.err).not.toMatch(/failed +\S/);
    expect(r.code).toBe(0);
    const config = await configIn(team1);
    const ec2 = new EC2Client(config);

    // The launch permission is in the AMI account, on both Taupage images.
    const amiEc2 = new EC2Client(await configIn(state));
    for (const image of [TAUPAGE_IMAGES.latest, TAUPAGE_IMAGES.old]) {
      const perms = await amiEc2.send(
        new DescribeImageAttributeCommand({ ImageId: image.id, Attribute: 'launchPermission' }),
      );
      expect(perms.LaunchPermissions?.map((p) => p.UserId)).toContain(team1);
    }

    // One NAT gateway with an Elastic IP in each dmz subnet.
    const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!;
    const byCidr = (cidr: string) => subnets.find((s) => s.CidrBlock === cidr)!;
    const vpcId = byCidr('172.31.0.0/21').VpcId!;
    const nats = (
      await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }))
    ).NatGateways!;
    const dmz = ['172.31.0.0/21', '172.31.8.0/21', '172.31.16.0/21'].map((c) => byCidr(c).SubnetId!);
    expect(nats.map((n) => n.SubnetId).sort()).toEqual([...dmz].sort());
    expect(nats.every((n) => n.NatGatewayAddresses?.[0]?.PublicIp)).toBe(true);

    // Routes: the main table to the internet gateway, each internal subnet to its zone's NAT.
    const tables = (
      await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))
    ).RouteTables!;
    const main = tables.find((t) => t.Associations?.some((a) => a.Main))!;
    expect(main.Routes?.find((x) => x.DestinationCidrBlock === '0.0.0.0/0')?.GatewayId).toMatch(/^igw-/);
    ['172.31.128.0/20', '172.31.144.0/20', '172.31.160.0/20'].forEach((cidr, i) => {
      const internal = byCidr(cidr);
      const table = tables.find((t) => t.Associations?.some((a) => a.SubnetId === internal.SubnetId))!;
      const nat = table.Routes?.find((x) => x.DestinationCidrBlock === '0.0.0.0/0')?.NatGatewayId;
      expect(nats.find((n) => n.NatGatewayId === nat)?.SubnetId).toBe(dmz[i]);
    });

    // The odd stack runs the newest Taupage image in a dmz subnet; its address has a name.
    const stack = (
      await new CloudFormationClient(config).send(new DescribeStacksCommand({ StackName: 'Odd' }))
    ).Stacks![0]!;
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    const params = Object.fromEntries(stack.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(params.TaupageId).toBe(TAUPAGE_IMAGES.latest.id);
    expect(dmz).toContain(params.SubnetId);
    const route53 = new Route53Client(config);
    const zone = (
      await route53.send(new ListHostedZonesByNameCommand({ DNSName: 'team-01.example.org.' }))
    ).HostedZones!.find((z) => z.Name === 'team-01.example.org.')!;
    const records = (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.Id })))
      .ResourceRecordSets!;
    const odd = records.find((x) => x.Name === `odd-${MOTO_REGION}.team-01.example.org.`);
    expect(odd?.Type).toBe('A');
    expect(odd?.ResourceRecords?.[0]?.Value).toBe(
      stack.Outputs?.find((o) => o.OutputKey === 'PublicIp')?.OutputValue,
    );

    // The certificate, and its validation record in the account zone.
    const acm = new ACMClient(config);
    const summaries = (await acm.send(new ListCertificatesCommand({}))).CertificateSummaryList!;
    expect(summaries.map((s) => s.DomainName)).toEqual(['*.team-01.example.org']);
    const cert = (
      await acm.send(new DescribeCertificateCommand({ CertificateArn: summaries[0]!.CertificateArn }))
    ).Certificate!;
    expect([...cert.SubjectAlternativeNames!].sort()).toEqual([
      '*.team-01.example.org',
      'team-01.example.org',
    ]);
    const validation = cert.DomainValidationOptions![0]!.ResourceRecord!;
    expect(records.find((x) => x.Name === validation.Name && x.Type === 'CNAME')?.ResourceRecords).toEqual([
      { Value: validation.Value },
    ]);

    const plan = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect((JSON.parse(plan.out) as AccountReport[]).flatMap((x) => x.changes)).toEqual([]);
    expect(plan.changing).toEqual([]);
    const again = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(again.out).toContain('2 accounts: 0 changed, 2 unchanged, 0 failed');
    expect(again.changing).toEqual([]);
  }, 180_000);

  it('a changed trusted network is one change: the odd stack updated, nothing else', async () => {
    const edited = sound.replace('office: 10.10.0.0/16', 'office: 10.20.0.0/16');
    expect(edited).not.toBe(sound);
    const plan = await sevenseconds(['plan', 'accounts.yaml', teamName(1), '-o', 'json'], edited);
    expect((JSON.parse(plan.out) as AccountReport[]).flatMap((x) => x.changes)).toEqual([
      {
        account: teamName(1),
        resource: `odd/${MOTO_REGION}`,
        action: 'update',
        detail: 'update stack Odd: template',
      },
    ]);
    expect(plan.changing).toEqual([]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', teamName(1)], edited);
    expect(configure.code).toBe(0);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([`${team1} UpdateStack`]);
    const after = await sevenseconds(['plan', 'accounts.yaml', teamName(1)], edited);
    expect(after.out).toContain('0 with changes');
  }, 120_000);
});
