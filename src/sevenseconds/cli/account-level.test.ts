import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateHostedZoneCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_REGION, type RunningMoto, skipWithoutMoto, startMoto } from '../../senza/test-support/moto.js';
import type { AccountReport } from '../contract.js';
import { motoAccountConfig, runSevenseconds } from '../test-support/run-sevenseconds.js';
import { accountId, structureYaml, teamName } from '../test-support/structure.js';

const TEAMS = 3;
const FIRST = 300000000000;
const ids = Array.from({ length: TEAMS + 1 }, (_, i) => accountId(FIRST, i));

/**
 * Account-level resources (CloudTrail, …) on moto_server, each proven the same way: plan changes
 * nothing, configure converges, plan and configure again find 0 changes, one edited key is one change.
 */
describe.skipIf(skipWithoutMoto())('sevenseconds account-level resources against moto_server', () => {
  let moto: RunningMoto;
  // moto refuses a trail whose bucket is not in the trail's own account (AWS allows the central
  // bucket of another account, which is what STUPS does); the test gives each account a bucket
  // of its own, made here, and the product sends whatever name the file says.
  const extraGlobal = `  cloudtrail:
    s3_bucket_name: 'exampleorg-cloudtrail-{account_id}'
    s3_key_prefix: exampleorg
    home_region: ${MOTO_REGION}
  domain: '{account_name}.example.org'
  domain_soa_ttl: 60
`;
  // team-01 keeps its data in a bucket with every S3 extra the file has (account-level
  // s3_buckets replaces global's, as STUPS merges).
  const dataBuckets = `    s3_buckets:
      data:
        name: 'exampleorg-data-{account_id}-{region}'
        regions: [${MOTO_REGION}]
        lifecycle_configuration:
          Rules: [{ID: expire-tmp, Status: Enabled, Filter: {Prefix: tmp/}, Expiration: {Days: 7}}]
        encryption_config:
          Rules: [{ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms', KMSMasterKeyID: alias/data}}]
        tags: {team: team-01, cost-center: '42'}
        logging_target: 'exampleorg-logs-{account_id}-{region}'
        logging_lifecycle_configuration:
          Rules: [{ID: expire-logs, Status: Enabled, Filter: {Prefix: ''}, Expiration: {Days: 30}}]
`;
  const sound = structureYaml({
    teams: TEAMS,
    firstId: FIRST,
    endpointRegion: MOTO_REGION,
    extraGlobal,
  }).replace(
    `  ${teamName(1)}:\n    id: '${ids[1]}'\n`,
    `  ${teamName(1)}:\n    id: '${ids[1]}'\n${dataBuckets}`,
  );

  beforeAll(async () => {
    moto = await startMoto();
    // The parent zone lives in the admin account (state), made by hand as in a real organisation.
    await (
      await inAccount(ids[0]!)
    ).route53.send(new CreateHostedZoneCommand({ Name: 'example.org', CallerReference: 'parent' }));
    for (const id of ids) {
      const { s3 } = await inAccount(id);
      await s3.send(
        new CreateBucketCommand({
          Bucket: `exampleorg-cloudtrail-${id}`,
          CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
        }),
      );
    }
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const sevenseconds = (args: string[], yaml = sound) => runSevenseconds(moto.endpoint, args, yaml);

  /** Clients acting in one emulated account, made here, independent of the code under test. */
  async function inAccount(id: string) {
    const config = await motoAccountConfig(moto.endpoint, id);
    return {
      s3: new S3Client({ ...config, forcePathStyle: true }),
      cloudtrail: new CloudTrailClient(config),
      route53: new Route53Client(config),
    };
  }

  const reportsOf = (out: string) => JSON.parse(out) as AccountReport[];
  const changesOf = (out: string) => reportsOf(out).flatMap((r) => r.changes);
  const team2 = ids[2]!;

  it('plan shows the trail to create in every account and makes no changing call', async () => {
    const r = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.changing).toEqual([]);
    expect(
      changesOf(r.out)
        .filter((c) => c.account === teamName(1) && c.resource.startsWith('s3-bucket'))
        .map((c) => `${c.resource}: ${c.detail}`),
    ).toEqual([
      `s3-bucket/exampleorg-logs-${ids[1]}-${MOTO_REGION}: create bucket in ${MOTO_REGION} with policy, lifecycle`,
      `s3-bucket/exampleorg-data-${ids[1]}-${MOTO_REGION}: create bucket in ${MOTO_REGION} with lifecycle, encryption, tags, logging`,
    ]);
    const trails = changesOf(r.out).filter((c) => c.resource.startsWith('cloudtrail'));
    expect(trails.map((c) => `${c.account} ${c.action} ${c.resource}: ${c.detail}`)).toEqual(
      ['state', teamName(1), teamName(2), teamName(3)].map(
        (name, i) =>
          `${name} create cloudtrail/Default: multi-region trail in ${MOTO_REGION} to s3://exampleorg-cloudtrail-${ids[i]}/exampleorg`,
      ),
    );
    // The order STUPS uses: the trail right after the alias.
    const team2Changes = reportsOf(r.out).find((x) => x.account === teamName(2))!.changes;
    expect(team2Changes.slice(0, 2).map((c) => c.resource)).toEqual(['alias', 'cloudtrail/Default']);
  }, 60_000);

  it('configure creates a logging multi-region trail; plan and configure again find nothing', async () => {
    const r = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${TEAMS + 1} accounts: ${TEAMS + 1} changed, 0 unchanged, 0 failed`);
    const { cloudtrail } = await inAccount(team2);
    const trail = (await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: ['Default'] })))
      .trailList?.[0];
    expect(trail).toMatchObject({
      Name: 'Default',
      S3BucketName: `exampleorg-cloudtrail-${team2}`,
      S3KeyPrefix: 'exampleorg',
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      LogFileValidationEnabled: true,
      HomeRegion: MOTO_REGION,
    });
    expect((await cloudtrail.send(new GetTrailStatusCommand({ Name: 'Default' }))).IsLogging).toBe(true);

    const plan = await sevenseconds(['plan', 'accounts.yaml', '*']);
    expect(plan.out).toContain(`${TEAMS + 1} accounts: 0 with changes, ${TEAMS + 1} unchanged, 0 failed`);
    expect(plan.changing).toEqual([]);
    const again = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(again.out).toContain(`${TEAMS + 1} accounts: 0 changed, ${TEAMS + 1} unchanged, 0 failed`);
    expect(again.changing).toEqual([]);
  }, 120_000);

  it('S3 extras: a bucket with lifecycle, encryption, tags and access logs (its log bucket made too), all public access blocked', async () => {
    const { s3 } = await inAccount(ids[1]!);
    const data = `exampleorg-data-${ids[1]}-${MOTO_REGION}`;
    const logs = `exampleorg-logs-${ids[1]}-${MOTO_REGION}`;
    const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: data }))).Rules;
    expect(rules).toMatchObject([{ ID: 'expire-tmp', Status: 'Enabled', Expiration: { Days: 7 } }]);
    expect(
      (await s3.send(new GetBucketEncryptionCommand({ Bucket: data }))).ServerSideEncryptionConfiguration
        ?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/data' });
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: data }))).TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'team-01' },
        { Key: 'cost-center', Value: '42' },
      ]),
    );
    expect((await s3.send(new GetBucketLoggingCommand({ Bucket: data }))).LoggingEnabled).toEqual({
      TargetBucket: logs,
      TargetPrefix: `${data}/`,
    });
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: logs }))).Rules?.[0]?.ID).toBe(
      'expire-logs',
    );
    for (const bucket of [data, logs, `exampleorg-stups-mint-${ids[2]}-${MOTO_REGION}`]) {
      const owner = bucket.includes(ids[2]!) ? (await inAccount(ids[2]!)).s3 : s3;
      expect(
        (await owner.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))
          .PublicAccessBlockConfiguration,
      ).toEqual({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
    }

    // One changed tag is one change, and configure puts the tags only.
    const edited = sound.replace("cost-center: '42'", "cost-center: '43'");
    expect(edited).not.toBe(sound);
    const plan = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json'], edited);
    expect(changesOf(plan.out)).toEqual([
      {
        account: teamName(1),
        resource: `s3-bucket/${data}`,
        action: 'update',
        detail: 'tags cost-center=43',
      },
    ]);
    expect(plan.changing).toEqual([]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', '*'], edited);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([
      `${ids[1]} PutBucketTagging`,
    ]);
    expect((await sevenseconds(['plan', 'accounts.yaml', '*'], edited)).out).toContain('0 with changes');
    // Back to the file the other tests use: the tag only, again.
    const back = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(back.changing.map((c) => `${c.account} ${c.command}`)).toEqual([`${ids[1]} PutBucketTagging`]);
  }, 60_000);

  it('DNS: each account has its hosted zone with the SOA TTL; a changed TTL is one change', async () => {
    const { route53 } = await inAccount(team2);
    const zone = (
      await route53.send(new ListHostedZonesByNameCommand({ DNSName: `${teamName(2)}.example.org.` }))
    ).HostedZones?.find((z) => z.Name === `${teamName(2)}.example.org.`);
    expect(zone?.Id).toBeDefined();
    const soa = async () =>
      (
        await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone!.Id! }))
      ).ResourceRecordSets?.find((r) => r.Type === 'SOA')?.TTL;
    expect(await soa()).toBe(60);
    // Delegated from the parent zone in the admin account, to exactly the zone's name servers.
    const { route53: adminDns } = await inAccount(ids[0]!);
    const parent = (
      await adminDns.send(new ListHostedZonesByNameCommand({ DNSName: 'example.org.' }))
    ).HostedZones?.find((z) => z.Name === 'example.org.');
    const ns = (
      await adminDns.send(new ListResourceRecordSetsCommand({ HostedZoneId: parent!.Id! }))
    ).ResourceRecordSets?.find((r) => r.Type === 'NS' && r.Name === `${teamName(2)}.example.org.`);
    const servers = (await route53.send(new GetHostedZoneCommand({ Id: zone!.Id! }))).DelegationSet
      ?.NameServers;
    expect(servers?.length).toBeGreaterThan(0);
    expect(ns?.ResourceRecords?.map((r) => r.Value).sort()).toEqual(
      servers!.map((s) => (s.endsWith('.') ? s : `${s}.`)).sort(),
    );
    const edited = sound.replace('domain_soa_ttl: 60', 'domain_soa_ttl: 120');
    const plan = await sevenseconds(['plan', 'accounts.yaml', teamName(2), '-o', 'json'], edited);
    expect(changesOf(plan.out)).toEqual([
      {
        account: teamName(2),
        resource: `dns-zone/${teamName(2)}.example.org`,
        action: 'update',
        detail: 'SOA TTL 60 → 120',
      },
    ]);
    expect(plan.changing).toEqual([]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', teamName(2)], edited);
    expect(configure.changing.map((c) => c.command)).toEqual(['ChangeResourceRecordSets']);
    expect(await soa()).toBe(120);
    const back = await sevenseconds(['configure', 'accounts.yaml', teamName(2)]);
    expect(back.changing.map((c) => c.command)).toEqual(['ChangeResourceRecordSets']);
  }, 60_000);

  it('a stopped trail is one change, and configure only starts it again', async () => {
    const { cloudtrail } = await inAccount(team2);
    await cloudtrail.send(new StopLoggingCommand({ Name: 'Default' }));
    const plan = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json']);
    expect(changesOf(plan.out)).toEqual([
      { account: teamName(2), resource: 'cloudtrail/Default', action: 'update', detail: 'start logging' },
    ]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', '*']);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([`${team2} StartLogging`]);
    expect((await cloudtrail.send(new GetTrailStatusCommand({ Name: 'Default' }))).IsLogging).toBe(true);
  }, 60_000);

  it('one changed key (the prefix of one account) is one update, applied to that trail only', async () => {
    const edited = sound.replace(
      `  ${teamName(3)}:\n    id: '${ids[3]}'\n`,
      `  ${teamName(3)}:\n    id: '${ids[3]}'\n    cloudtrail: {s3_bucket_name: 'exampleorg-cloudtrail-{account_id}', s3_key_prefix: other, home_region: ${MOTO_REGION}}\n`,
    );
    expect(edited).not.toBe(sound);
    const plan = await sevenseconds(['plan', 'accounts.yaml', '*', '-o', 'json'], edited);
    expect(changesOf(plan.out)).toEqual([
      {
        account: teamName(3),
        resource: 'cloudtrail/Default',
        action: 'update',
        detail: 'prefix exampleorg → other',
      },
    ]);
    const configure = await sevenseconds(['configure', 'accounts.yaml', '*'], edited);
    expect(configure.changing.map((c) => `${c.account} ${c.command}`)).toEqual([`${ids[3]} UpdateTrail`]);
    const { cloudtrail } = await inAccount(ids[3]!);
    expect(
      (await cloudtrail.send(new DescribeTrailsCommand({ trailNameList: ['Default'] }))).trailList?.[0]
        ?.S3KeyPrefix,
    ).toBe('other');
    expect((await sevenseconds(['plan', 'accounts.yaml', '*'], edited)).out).toContain('0 with changes');
  }, 60_000);

  it('enable_cloudtrail: false plans nothing for the trail (and never deletes it)', async () => {
    const off = sound.replace('  cloudtrail:\n', '  enable_cloudtrail: false\n  cloudtrail:\n');
    expect(off).not.toBe(sound);
    const r = await sevenseconds(['configure', 'accounts.yaml', '*'], off);
    expect(r.out).toContain('0 changed');
    expect(r.calls.filter((c) => c.service === 'cloudtrail')).toEqual([]);
  }, 60_000);
});
