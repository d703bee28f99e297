import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetRoleCommand,
  IAMClient,
  ListAccountAliasesCommand,
  ListSAMLProvidersCommand,
} from '@aws-sdk/client-iam';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_REGION, type RunningMoto, skipWithoutMoto, startMoto } from '../../senza/test-support/moto.js';
import type { AccountReport } from '../contract.js';
import { motoAccountConfig, runSevenseconds } from '../test-support/run-sevenseconds.js';
import { accountId, structureYaml, teamName } from '../test-support/structure.js';

const TEAMS = 19; // + state = an organisation of 20 accounts

describe.skipIf(skipWithoutMoto())('sevenseconds against moto_server: 20 accounts from one file', () => {
  let moto: RunningMoto;
  const sound = structureYaml({ teams: TEAMS, endpointRegion: MOTO_REGION });

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const sevenseconds = (args: string[], yaml = sound) => runSevenseconds(moto.endpoint, args, yaml);

  /** Clients acting in one emulated account, made here, independent of the code under test. */
  async function inAccount(id: string) {
    const config = await motoAccountConfig(moto.endpoint, id);
    return {
      iam: new IAMClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      ec2: new EC2Client(config),
    };
  }

  const first = 200000000000;
  const team5 = accountId(first, 5);

  it('an invalid file: every problem as path: message, and not one AWS call', async () => {
    const r = await sevenseconds(
      ['plan', 'accounts.yaml', '*'],
      sound
        .replace('environment: production\n  saml_providers', 'environment: staging\n  saml_providers')
        .replace("id: '200000000003'", "id: '2003'"),
    );
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      [
        'sevenseconds: accounts.yaml: global.environment: Invalid option: expected one of "production"|"non-production"',
        'sevenseconds: accounts.yaml: accounts.team-03.id: must be a 12-digit AWS account id',
        '',
      ].join('\n'),
    );
    expect(r.calls).toEqual([]);
  });

  it("--concurrency (and STUPS' -P) must be a positive whole number: exit 2, one line, no AWS call", async () => {
    for (const flag of ['--concurrency', '--max-procs']) {
      const r = await sevenseconds(['plan', 'accounts.yaml', flag, '0']);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`sevenseconds: ${flag} must be a positive whole number (got "0")\n`);
      expect(r.calls).toEqual([]);
    }
  });

  it('plan before anything: every account has changes, and not one changing call was made', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect(r.err).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const reports = JSON.parse(r.out) as AccountReport[];
    expect(reports).toHaveLength(TEAMS + 1);
    expect(reports.every((x) => x.status === 'changed')).toBe(true);
    const team5Changes = reports
      .find((x) => x.account === teamName(5))!
      .changes.map((c) => `${c.action} ${c.resource}`);
    expect(team5Changes).toEqual([
      'create alias',
      'create saml-provider/Shibboleth',
      'create iam-role/Shibboleth-ReadOnly',
      'create iam-role/deployer',
      `create s3-bucket/exampleorg-stups-mint-${team5}-eu-west-1`,
      'delete vpc/eu-west-1',
      'create vpc/eu-west-1',
      'create subnet/eu-west-1/dmz-eu-west-1a',
      'create subnet/eu-west-1/dmz-eu-west-1b',
      'create subnet/eu-west-1/dmz-eu-west-1c',
      'create subnet/eu-west-1/internal-eu-west-1a',
      'create subnet/eu-west-1/internal-eu-west-1b',
      'create subnet/eu-west-1/internal-eu-west-1c',
      // NAT is on by default (enable_nat), as in STUPS.
      'create nat-gateway/eu-west-1/eu-west-1a',
      'create nat-gateway/eu-west-1/eu-west-1b',
      'create nat-gateway/eu-west-1/eu-west-1c',
      'update route-table/eu-west-1/dmz',
      'create route-table/eu-west-1/internal-eu-west-1a',
      'create route-table/eu-west-1/internal-eu-west-1b',
      'create route-table/eu-west-1/internal-eu-west-1c',
      'create db-subnet-group/eu-west-1/internal',
      'create cache-subnet-group/eu-west-1/internal',
    ]);
    // The proof: every SDK call plan made was a read, in every account.
    expect(r.calls.length).toBeGreaterThan(TEAMS * 10);
    expect(r.changing).toEqual([]);
    // Calls went to each of the 20 accounts, plus the login's own STS calls (GetCallerIdentity
    // and every account's AssumeRole, through the one login client).
    expect(new Set(r.calls.map((c) => c.account))).toEqual(
      new Set(['login', ...Array.from({ length: TEAMS + 1 }, (_, i) => accountId(first, i))]),
    );
    const { iam } = await inAccount(team5);
    expect((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([]);
  }, 120_000);

  it('configure converges every account; the result is what the file says', async () => {
    const r = await sevenseconds(['configure', 'accounts.yaml', '*', '-P', '4']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${TEAMS + 1} accounts: ${TEAMS + 1} changed, 0 unchanged, 0 failed`);
    expect(r.changing.length).toBeGreaterThan(0);
    const { iam, s3, ec2 } = await inAccount(team5);
    expect((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual(['myorg-team-05']);
    expect((await iam.send(new ListSAMLProvidersCommand({}))).SAMLProviderList?.map((p) => p.Arn)).toEqual([
      `arn:aws:iam::${team5}:saml-provider/Shibboleth`,
    ]);
    const deployer = (await iam.send(new GetRoleCommand({ RoleName: 'deployer' }))).Role!;
    expect(decodeURIComponent(deployer.AssumeRolePolicyDocument!)).toContain(
      `"AWS":"arn:aws:iam::${accountId(first, 0)}:root"`,
    );
    const policy = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: `exampleorg-stups-mint-${team5}-eu-west-1` })))
        .Policy!,
    ) as {
      Statement: { Action: string; Resource: string }[];
    };
    expect(policy.Statement[0]).toMatchObject({
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::exampleorg-stups-mint-${team5}-eu-west-1/*`,
    });
    const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
    expect(vpcs.map((v) => [v.CidrBlock, v.IsDefault])).toEqual([['172.31.0.0/16', false]]);
    const subnets = (
      await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcs[0]!.VpcId!] }] }))
    ).Subnets!;
    expect(subnets.map((s) => `${s.AvailabilityZone} ${s.CidrBlock}`).sort()).toEqual([
      'eu-west-1a 172.31.0.0/21',
      'eu-west-1a 172.31.128.0/20',
      'eu-west-1b 172.31.144.0/20',
      'eu-west-1b 172.31.8.0/21',
      'eu-west-1c 172.31.16.0/21',
      'eu-west-1c 172.31.160.0/20',
    ]);
  }, 180_000);

  it('plan again and configure again: 0 changes, and configure makes not one changing call', async () => {
    const plan = await sevenseconds(['plan', 'accounts.yaml', '*']);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain(`${TEAMS + 1} accounts: 0 with changes, ${TEAMS + 1} unchanged, 0 failed`);
    expect(plan.changing).toEqual([]);
    const again = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`${TEAMS + 1} accounts: 0 changed, ${TEAMS + 1} unchanged, 0 failed`);
    expect(again.changing).toEqual([]);
  }, 120_000);

  it('one changed key shows exactly one change, and configure applies just that', async () => {
    const edited = sound.replace(
      `  ${teamName(4)}:\n    id: '${accountId(first, 4)}'\n`,
      `  ${teamName(4)}:\n    id: '${accountId(first, 4)}'\n    vpc: {tags: {cost-center: '42'}}\n`,
    );
    expect(edited).not.toBe(sound);
    const plan = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json'], edited);
    const changes = (JSON.parse(plan.out) as AccountReport[]).flatMap((x) => x.changes);
    expect(changes).toEqual([
      { account: teamName(4), resource: 'vpc/eu-west-1', action: 'update', detail: 'tags cost-center=42' },
    ]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', 'team-0[0-4]'], edited);
    expect(configure.code).toBe(0);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([
      `${accountId(first, 4)} CreateTags`,
    ]);
    expect((await sevenseconds(['plan', 'accounts.yaml', '*'], edited)).out).toContain('0 with changes');
  }, 120_000);

  it('an alias mismatch fails that account (never a silent skip) and exits 1', async () => {
    const edited = sound.replace(
      `  ${teamName(6)}:\n    id: '${accountId(first, 6)}'\n    alias: 'myorg-{account_name}'`,
      `  ${teamName(6)}:\n    id: '${accountId(first, 6)}'\n    alias: 'someone-else'`,
    );
    expect(edited).not.toBe(sound);
    const r = await sevenseconds(['configure', 'accounts.yaml', 'team-0[5-7]'], edited);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'team-06  failed     Connected to myorg-team-06, but account someone-else should be configured',
    );
    expect(r.out).toContain('3 accounts: 0 changed, 2 unchanged, 1 failed');
    expect(r.err).toContain('sevenseconds: 1 of 3 accounts failed');
    // Progress (stderr is no terminal here): one line per finished account, the failure's reason in it.
    expect(r.err).toMatch(
      /^\[[1-3]\/3\] team-06: failed: Connected to myorg-team-06, but account someone-else should be configured$/m,
    );
    expect(r.err.match(/^\[[1-3]\/3\] team-0[57]: unchanged$/gm)).toHaveLength(2);
    expect(r.changing).toEqual([]);
  }, 60_000);

  it('never deletes a default VPC that is in use: the account fails naming what runs there', async () => {
    // An account the earlier tests did not configure, so its default VPC is still there.
    const legacyId = accountId(first, 90);
    const withLegacy = `${sound}  legacy:\n    id: '${legacyId}'\n    environment: non-production\n`;
    const { ec2 } = await inAccount(legacyId);
    const defaultVpc = async () =>
      (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] })))
        .Vpcs?.[0];
    const vpcId = (await defaultVpc())?.VpcId;
    expect(vpcId).toMatch(/^vpc-/);
    // What a load balancer leaves in a VPC: a network interface (moto keeps an instance's after
    // it is terminated and refuses to detach it, so the test uses one it can remove again).
    const subnet = (
      await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId!] }] }))
    ).Subnets?.[0]?.SubnetId;
    const eni = (
      await ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnet,
          Description: 'ELB app/legacy-lb/50dc6c495c0c9188',
        }),
      )
    ).NetworkInterface?.NetworkInterfaceId;
    expect(eni).toMatch(/^eni-/);

    const planned = await sevenseconds(['plan', 'accounts.yaml', 'legacy'], withLegacy);
    expect(planned.code).toBe(1);
    expect(planned.changing).toEqual([]);
    const refused = await sevenseconds(['configure', 'accounts.yaml', 'legacy'], withLegacy);
    expect(refused.code).toBe(1);
    for (const r of [planned, refused])
      expect(r.out).toMatch(
        new RegExp(
          `legacy +failed +the default VPC ${vpcId} in ${MOTO_REGION} overlaps 172\\.31\\.0\\.0/16 and is in use ` +
            `\\(1 network interface: ${eni} \\(ELB app/legacy-lb/50dc6c495c0c9188\\)\\); move or delete what runs there`,
        ),
      );
    expect(refused.changing.filter((c) => c.service === 'ec2')).toEqual([]);
    expect((await defaultVpc())?.VpcId).toBe(vpcId);

    // Once nothing runs there, configure replaces it as STUPS did.
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }));
    const replaced = await sevenseconds(['configure', 'accounts.yaml', 'legacy'], withLegacy);
    expect(replaced.out).toContain(`- vpc/${MOTO_REGION}: delete default VPC ${vpcId}`);
    expect(replaced.code).toBe(0);
    expect(await defaultVpc()).toBeUndefined();
  }, 120_000);

  it('a login role that cannot be reached fails the account with one line', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', 'team-01', '--login-account', 'team-02']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'sevenseconds: the credential chain is logged in to 123456789012, not team-02 (200000000002)\n',
    );
  });

  it('check passes the structure and fails naming the path when a non-production principal is trusted by production', async () => {
    const ok = await sevenseconds(['check', 'accounts.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /^OK: \d+ principals, \d+ roles, \d+ trust edges; no non-production principal reaches a production role/,
    );
    const bad = sound.replace(
      `  ${teamName(3)}:\n    id: '${accountId(first, 3)}'\n`,
      `  ${teamName(3)}:\n    id: '${accountId(first, 3)}'\n    roles:\n      deployer:\n        assume_role_policy:\n          Statement: [{Effect: Allow, Action: sts:AssumeRole, Principal: {AWS: ['arn:aws:iam::{account_id:state}:root', 'arn:aws:iam::{account_id:state}:user/nonprod-service']}}]\n`,
    );
    expect(bad).not.toBe(sound);
    const r = await sevenseconds(['check', 'accounts.yaml'], bad);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      'non-production state/user/nonprod-service reaches production role team-03/role/deployer: state/user/nonprod-service → team-03/role/deployer\n',
    );
    expect(r.err).toBe('sevenseconds: 1 problem in the trust graph of accounts.yaml\n');
    expect(r.calls).toEqual([]);
  });
});
