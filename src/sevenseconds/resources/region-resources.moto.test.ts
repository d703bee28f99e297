import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { DescribeCacheSubnetGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DescribeDBSubnetGroupsCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_REGION, type RunningMoto, skipWithoutMoto, startMoto } from '../../senza/test-support/moto.js';
import type { AccountReport } from '../contract.js';
import { motoAccountConfig, runSevenseconds } from '../test-support/run-sevenseconds.js';
import { accountId, structureYaml, teamName } from '../test-support/structure.js';

// Per-region resources on moto_server: EBS default encryption, subnet groups and security groups.
const FIRST = 300000000000;
const EXTRA = `  kms:
    alias/stups-secrets:
      description: 'secrets of {account_name} in {region}'
      key_policy:
        Statement:
          - Sid: AccountAdmin
            Effect: Allow
            Principal: {AWS: 'arn:aws:iam::{account_id}:root'}
            Action: 'kms:*'
            Resource: '*'
  ebs_encrypt_by_default: true
  trusted_networks:
    office: 10.10.0.0/16
    vpn: 192.168.0.0/24
  security_groups:
    Odd (SSH Bastion Host):
      description: SSH from the trusted networks
      allow_from_trusted: true
      ip_permissions:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22}
    web:
      ip_permissions:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, IpRanges: [{CidrIp: 0.0.0.0/0}]}
`;

describe.skipIf(skipWithoutMoto())('sevenseconds per-region resources against moto_server', () => {
  let moto: RunningMoto;
  const sound = structureYaml({ teams: 1, firstId: FIRST, endpointRegion: MOTO_REGION, extraGlobal: EXTRA });

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const sevenseconds = (args: string[], yaml = sound) => runSevenseconds(moto.endpoint, args, yaml);

  const configIn = (id: string) => motoAccountConfig(moto.endpoint, id);
  const ec2In = async (id: string) => new EC2Client(await configIn(id));

  const team1 = accountId(FIRST, 1);
  const regionChanges = (reports: AccountReport[], account: string) =>
    reports
      .find((x) => x.account === account)!
      .changes.filter((c) =>
        /^(kms|ebs-encryption|security-group|db-subnet-group|cache-subnet-group)\//.test(c.resource),
      )
      .map((c) => `${c.action} ${c.resource}: ${c.detail}`);

  it('plan shows the EBS and security-group changes and makes no changing call', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(regionChanges(JSON.parse(r.out) as AccountReport[], teamName(1))).toEqual([
      `create kms/${MOTO_REGION}/alias/stups-secrets: create key "secrets of team-01 in ${MOTO_REGION}"`,
      `update ebs-encryption/${MOTO_REGION}: enable EBS encryption by default`,
      `create db-subnet-group/${MOTO_REGION}/internal: create over the 3 internal subnets`,
      `create cache-subnet-group/${MOTO_REGION}/internal: create over the 3 internal subnets`,
      `create security-group/${MOTO_REGION}/Odd (SSH Bastion Host): create with tcp 22 from 10.10.0.0/16, tcp 22 from 192.168.0.0/24`,
      `create security-group/${MOTO_REGION}/web: create with tcp 443 from 0.0.0.0/0`,
    ]);
    expect(r.calls.some((c) => c.command === 'GetEbsEncryptionByDefault')).toBe(true);
    expect(r.changing).toEqual([]);
    expect(
      (await (await ec2In(team1)).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault,
    ).toBe(false);
  }, 60_000);

  it('configure makes them; plan and configure again change nothing', async () => {
    const r = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(r.err).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const ec2 = await ec2In(team1);
    expect((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault).toBe(true);
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
    const odd = groups.find((g) => g.GroupName === 'Odd (SSH Bastion Host)')!;
    expect(odd.Description).toBe('SSH from the trusted networks');
    expect(
      odd
        .IpPermissions!.flatMap((p) => p.IpRanges!.map((x) => `${p.IpProtocol} ${p.FromPort} ${x.CidrIp}`))
        .sort(),
    ).toEqual(['tcp 22 10.10.0.0/16', 'tcp 22 192.168.0.0/24']);
    // The default group of the account VPC is still AWS's own: no rule of ours in it.
    const dflt = groups.filter((g) => g.GroupName === 'default' && g.VpcId === odd.VpcId);
    expect(dflt).toHaveLength(1);
    expect(JSON.stringify(dflt[0]!.IpPermissions)).not.toMatch(/10\.10\.0\.0|443/);

    // The subnet groups hold exactly the internal subnets (the /20s), none of the dmz ones.
    const internal = (await ec2.send(new DescribeSubnetsCommand({})))
      .Subnets!.filter((s) => s.VpcId === odd.VpcId && s.CidrBlock!.endsWith('/20'))
      .map((s) => s.SubnetId!)
      .sort();
    expect(internal).toHaveLength(3);
    const config = await configIn(team1);
    const kms = new KMSClient(config);
    const alias = (await kms.send(new ListAliasesCommand({}))).Aliases!.find(
      (a) => a.AliasName === 'alias/stups-secrets',
    )!;
    const key = (await kms.send(new DescribeKeyCommand({ KeyId: alias.TargetKeyId! }))).KeyMetadata!;
    expect(key.Description).toBe(`secrets of team-01 in ${MOTO_REGION}`);
    const keyPolicy = JSON.parse(
      (await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId!, PolicyName: 'default' }))).Policy!,
    ) as { Statement: { Principal: unknown }[] };
    expect(keyPolicy.Statement[0]!.Principal).toEqual({ AWS: `arn:aws:iam::${team1}:root` });
    const db = (
      await new RDSClient(config).send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: 'internal' }))
    ).DBSubnetGroups![0]!;
    expect(db.Subnets!.map((x) => x.SubnetIdentifier).sort()).toEqual(internal);
    expect(db.VpcId).toBe(odd.VpcId);
    const cache = (
      await new ElastiCacheClient(config).send(
        new DescribeCacheSubnetGroupsCommand({ CacheSubnetGroupName: 'internal' }),
      )
    ).CacheSubnetGroups![0]!;
    expect(cache.Subnets!.map((x) => x.SubnetIdentifier).sort()).toEqual(internal);

    const plan = await sevenseconds(['plan', 'accounts.yaml', '*']);
    expect(plan.out).toContain('2 accounts: 0 with changes, 2 unchanged, 0 failed');
    expect(plan.changing).toEqual([]);
    const again = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(again.out).toContain('2 accounts: 0 changed, 2 unchanged, 0 failed');
    expect(again.changing).toEqual([]);
  }, 120_000);

  it('a changed trusted network is exactly one change: one source added, one revoked', async () => {
    const edited = sound.replace(
      `  ${teamName(1)}:\n    id: '${team1}'\n`,
      `  ${teamName(1)}:\n    id: '${team1}'\n    trusted_networks: {office: 10.10.0.0/16, vpn: 192.168.1.0/24}\n`,
    );
    expect(edited).not.toBe(sound);
    const plan = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json'], edited);
    const changes = (JSON.parse(plan.out) as AccountReport[]).flatMap((x) => x.changes);
    expect(changes).toEqual([
      {
        account: teamName(1),
        resource: `security-group/${MOTO_REGION}/Odd (SSH Bastion Host)`,
        action: 'update',
        detail: '+tcp 22 from 192.168.1.0/24, -tcp 22 from 192.168.0.0/24',
      },
    ]);
    expect(plan.changing).toEqual([]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', '*'], edited);
    expect(configure.code).toBe(0);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([
      `${team1} RevokeSecurityGroupIngress`,
      `${team1} AuthorizeSecurityGroupIngress`,
    ]);
    expect((await sevenseconds(['plan', 'accounts.yaml', '*'], edited)).out).toContain('0 with changes');
  }, 120_000);

  it('naming the default group fails the account with one line, before any change', async () => {
    const r = await sevenseconds(
      ['configure', 'accounts.yaml', teamName(1)],
      sound.replace('    web:\n', '    default:\n'),
    );
    expect(r.code).toBe(1);
    expect(r.out + r.err).toContain("security_groups.default: the VPC's default group is AWS's own");
  }, 60_000);
});
