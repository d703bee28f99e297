import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeregisterImageCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RegisterImageCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand as CreateClassicLoadBalancerCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../../senza/test-support/moto.js';
import { AccountClients } from '../aws/account-clients.js';
import { Ec2ImageCatalog } from '../aws/images.js';
import type { PeriodicRule } from '../rules/rule.js';
import { RuleSettingsSchema } from '../settings.js';
import { foreignGrantees } from '../rules/cross-account-role.js';
import {
  ACCOUNT_B,
  ACCOUNT_C,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../test-support/fullstop-harness.js';
import { PERIODIC_RULES } from './index.js';
import type { PeriodicChecks } from './runner.js';
import { openToTheWorld } from './unsecured-public-endpoint.js';
import { rootUserProblems } from './unsecured-root-user.js';

const DAY_MS = 86_400_000;
const trustPolicy = (principal: Record<string, string>) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }],
  });
const ruleNamed = (id: string): PeriodicRule => {
  const rule = PERIODIC_RULES.find((r) => r.type.id === id);
  if (!rule) throw new Error(`no periodic rule ${id}`);
  return rule;
};

describe('periodic check logic', () => {
  it('UNSECURED_ROOT_USER: root without MFA or with keys', () => {
    // moto's account summary always reports AccountMFAEnabled 0 (moto cannot enable root MFA),
    // so the secured root user, the non-triggering case, is checked on the summary itself.
    expect(rootUserProblems({ AccountMFAEnabled: 1, AccountAccessKeysPresent: 0 })).toEqual([]);
    expect(rootUserProblems({ AccountMFAEnabled: 1, AccountAccessKeysPresent: 1 })).toEqual([
      'has access keys',
    ]);
    expect(rootUserProblems({ AccountMFAEnabled: 0 })).toEqual(['no MFA device']);
  });

  it('CROSS_ACCOUNT_ROLE: foreign grantees leave out the own, platform and trusted accounts; * first', async () => {
    const platform = { isPlatformAccount: async (a: string) => a === ACCOUNT_B };
    expect(
      await foreignGrantees(
        [ACCOUNT_C, MOTO_ACCOUNT, ACCOUNT_B, '*', '666666666666'],
        MOTO_ACCOUNT,
        {
          trustedAccounts: ['666666666666'],
        },
        platform,
      ),
    ).toEqual(['*', ACCOUNT_C]);
    expect(
      await foreignGrantees([ACCOUNT_B, MOTO_ACCOUNT], MOTO_ACCOUNT, { trustedAccounts: [] }, platform),
    ).toEqual([]);
  });

  it('openToTheWorld: non-public ports open to 0.0.0.0/0 or ::/0', () => {
    const world = [{ CidrIp: '0.0.0.0/0' }];
    expect(
      openToTheWorld([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: world }], [80, 443]),
    ).toEqual([]);
    expect(
      openToTheWorld([{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: world }], [80, 443]),
    ).toEqual([{ protocol: 'tcp', from_port: 22, to_port: 22 }]);
    expect(openToTheWorld([{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }], [80, 443])).toEqual([
      { protocol: '-1', from_port: 0, to_port: 65535 },
    ]);
    expect(
      openToTheWorld(
        [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        [80, 443],
      ),
    ).toEqual([]);
  });
});

describe.skipIf(skipWithoutMoto())('fullstop periodic checks on moto', () => {
  let moto: RunningMoto;
  let images: Ec2ImageCatalog;
  let clients: AccountClients;
  const launched = { old: '', latest: '', open: '' };
  let webAlbListener = '';
  let keyId = '';
  let partnerRole = { arn: '', id: '' };

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    const aws = { region: MOTO_REGION, endpoint: moto.endpoint };
    images = new Ec2ImageCatalog(aws);
    // Every account is read through its `fullstop` role, as in production; moto's STS hands
    // out credentials for the named account, so ACCOUNT_B is a second, empty moto account.
    clients = new AccountClients(aws, { assumeRoleName: 'fullstop' });
    const config = motoClientConfig(moto.endpoint);
    const ec2 = new EC2Client(config);
    const group = async (name: string, port: number) => {
      const id =
        (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }))).GroupId ??
        '';
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: id,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          ],
        }),
      );
      return id;
    };
    const web = await group('web', 443);
    const ssh = await group('ssh-open', 22);
    // moto's default VPC: its default subnets map public IPs on launch.
    const { Subnets = [] } = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
    );
    const subnet = Subnets[0]?.SubnetId;
    const run = async (imageId: string, groupId: string) =>
      (
        await ec2.send(
          new RunInstancesCommand({
            ImageId: imageId,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnet,
            SecurityGroupIds: [groupId],
          }),
        )
      ).Instances?.[0]?.InstanceId ?? '';
    launched.old = await run(TAUPAGE_IMAGES.old.id, web);
    launched.latest = await run(TAUPAGE_IMAGES.latest.id, web);
    launched.open = await run(TAUPAGE_IMAGES.latest.id, ssh);
    // An instance outliving its AMI: DescribeImages leaves the image out, the instance is not judged.
    const gone = (
      await ec2.send(
        new RegisterImageCommand({ Name: 'Taupage-AMI-20240101-000000', RootDeviceName: '/dev/xvda' }),
      )
    ).ImageId;
    await run(gone ?? '', web);
    await ec2.send(new DeregisterImageCommand({ ImageId: gone }));

    const elbv2 = new ElasticLoadBalancingV2Client(config);
    const vpcId = Subnets[0]?.VpcId;
    const alb = async (name: string) =>
      (
        await elbv2.send(
          new CreateLoadBalancerCommand({
            Name: name,
            Scheme: 'internet-facing',
            Type: 'application',
            Subnets: Subnets.slice(0, 2).map((s) => s.SubnetId ?? ''),
            SecurityGroups: [web],
          }),
        )
      ).LoadBalancers?.[0]?.LoadBalancerArn ?? '';
    const targets = (
      await elbv2.send(
        new CreateTargetGroupCommand({ Name: 'app', Protocol: 'HTTP', Port: 8080, VpcId: vpcId }),
      )
    ).TargetGroups?.[0]?.TargetGroupArn;
    webAlbListener =
      (
        await elbv2.send(
          new CreateListenerCommand({
            LoadBalancerArn: await alb('plain-http'),
            Protocol: 'HTTP',
            Port: 80,
            DefaultActions: [{ Type: 'forward', TargetGroupArn: targets }],
          }),
        )
      ).Listeners?.[0]?.ListenerArn ?? '';
    await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: await alb('redirecting'),
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
        ],
      }),
    );
    const elb = new ElasticLoadBalancingClient(config);
    await elb.send(
      new CreateClassicLoadBalancerCommand({
        LoadBalancerName: 'classic-http',
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }],
        AvailabilityZones: [`${MOTO_REGION}a`],
      }),
    );
    await elb.send(
      new CreateClassicLoadBalancerCommand({
        LoadBalancerName: 'classic-tcp',
        Listeners: [{ Protocol: 'TCP', LoadBalancerPort: 443, InstanceProtocol: 'TCP', InstancePort: 8443 }],
        AvailabilityZones: [`${MOTO_REGION}a`],
      }),
    );
    const iam = new IAMClient(config);
    await iam.send(new CreateUserCommand({ UserName: 'legacy-deployer' }));
    keyId =
      (await iam.send(new CreateAccessKeyCommand({ UserName: 'legacy-deployer' }))).AccessKey?.AccessKeyId ??
      '';
    const inactive = (await iam.send(new CreateAccessKeyCommand({ UserName: 'legacy-deployer' }))).AccessKey;
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'legacy-deployer',
        AccessKeyId: inactive?.AccessKeyId,
        Status: 'Inactive',
      }),
    );
    // Roles of the moto account (team-a's): one trusting an account outside the platform, one
    // trusting team-b's account, one a service, one the account's own SAML provider.
    const role = async (name: string, principal: Record<string, string>) =>
      (
        await iam.send(
          new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustPolicy(principal) }),
        )
      ).Role;
    const partner = await role('partner-access', { AWS: `arn:aws:iam::${ACCOUNT_C}:root` });
    partnerRole = { arn: partner?.Arn ?? '', id: partner?.RoleId ?? '' };
    await role('team-b-access', { AWS: ACCOUNT_B });
    await role('lambda-exec', { Service: 'lambda.amazonaws.com' });
    await role('sso-admin', { Federated: `arn:aws:iam::${MOTO_ACCOUNT}:saml-provider/platform-idp` });
    for (const c of [ec2, elbv2, elb, iam]) c.destroy();
  }, 120_000);
  afterAll(async () => {
    images.dispose();
    clients.dispose();
    vi.unstubAllEnvs();
    await moto.stop();
  });

  describeEachDatabase('with the team service', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
    let h: FullstopHarness;
    let offsetDays = 0;
    let periodic: PeriodicChecks;
    const check = async (id: string, settings = {}, days = 0) =>
      ruleNamed(id).check({
        account: MOTO_ACCOUNT,
        region: MOTO_REGION,
        clients: await clients.for(MOTO_ACCOUNT, MOTO_REGION),
        settings: RuleSettingsSchema.parse(settings),
        accounts: { isPlatformAccount: async (a) => (await h.teams.teamOfAccount(a)) !== undefined },
        now: new Date(Date.now() + days * DAY_MS),
      });

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), images);
      periodic = h.fullstop.periodicChecks({
        accounts: h.teams,
        clients,
        regions: [MOTO_REGION],
        clock: () => new Date(Date.now() + offsetDays * DAY_MS),
      });
    });

    it('OUTDATED_TAUPAGE: running instances on a Taupage AMI that is not the latest or too old', async () => {
      const found = await check('OUTDATED_TAUPAGE');
      expect(found).toEqual([
        {
          type: 'OUTDATED_TAUPAGE',
          resource: launched.old,
          instanceId: launched.old,
          metaInfo: expect.objectContaining({
            ami_id: TAUPAGE_IMAGES.old.id,
            ami_name: TAUPAGE_IMAGES.old.name,
            latest_ami_id: TAUPAGE_IMAGES.latest.id,
            reasons: ['a newer Taupage AMI exists'],
          }),
        },
      ]);
      // Not triggering: the latest image, young enough, when only age counts.
      expect(await check('OUTDATED_TAUPAGE', { taupageRequireLatest: false })).toEqual([]);
      // 100 days later every Taupage AMI in use is past the 90 days.
      const later = await check('OUTDATED_TAUPAGE', { taupageRequireLatest: false }, 100);
      expect(later.map((f) => f.instanceId).sort()).toEqual(
        [launched.old, launched.latest, launched.open].sort(),
      );
    });

    it('UNSECURED_PUBLIC_ENDPOINT: plain HTTP load balancers and instances open on non-public ports', async () => {
      const found = await check('UNSECURED_PUBLIC_ENDPOINT');
      expect(found.map((f) => f.resource).sort()).toEqual(
        [webAlbListener, 'elb/classic-http/80', launched.open].sort(),
      );
      expect(found.find((f) => f.resource === launched.open)?.metaInfo).toEqual({
        public_ip: expect.any(String),
        open: [{ group_id: expect.stringMatching(/^sg-/), protocol: 'tcp', from_port: 22, to_port: 22 }],
      });
      // Port 22 allowed (STUPS' EC2 setting): the instance is fine, the load balancers are not.
      const with22 = await check('UNSECURED_PUBLIC_ENDPOINT', { publicEndpointPorts: [22, 80, 443] });
      expect(with22.map((f) => f.resource)).not.toContain(launched.open);
      expect(with22).toHaveLength(2);
    });

    it('ACTIVE_KEY_TOO_OLD: active keys past the allowed age', async () => {
      expect(await check('ACTIVE_KEY_TOO_OLD')).toEqual([]);
      const later = await check('ACTIVE_KEY_TOO_OLD', { accessKeyMaxAgeDays: 30 }, 40);
      // The inactive key is not reported.
      expect(later).toEqual([
        {
          type: 'ACTIVE_KEY_TOO_OLD',
          resource: keyId,
          metaInfo: {
            access_key_id: keyId,
            user_name: 'legacy-deployer',
            access_key_created: expect.any(String),
          },
        },
      ]);
    });

    it('UNSECURED_ROOT_USER: from IAM GetAccountSummary', async () => {
      expect(await check('UNSECURED_ROOT_USER')).toEqual([
        { type: 'UNSECURED_ROOT_USER', resource: 'root', metaInfo: { problems: ['no MFA device'] } },
      ]);
    });

    it('CROSS_ACCOUNT_ROLE: roles trusting an account outside the platform, from IAM ListRoles', async () => {
      const found = await check('CROSS_ACCOUNT_ROLE');
      // Not the role trusting team-b's account, nor the service's, nor the own SAML provider's.
      expect(found).toEqual([
        {
          type: 'CROSS_ACCOUNT_ROLE',
          resource: partnerRole.arn,
          instanceId: partnerRole.id,
          metaInfo: { role_arn: partnerRole.arn, role_name: 'partner-access', grantees: [ACCOUNT_C] },
        },
      ]);
      // An account named in rules.trustedAccounts is the platform's too.
      expect(await check('CROSS_ACCOUNT_ROLE', { trustedAccounts: [ACCOUNT_C] })).toEqual([]);
    });

    it('CROSS_ACCOUNT_ROLE as a job: stored once per role, a second run adds nothing', async () => {
      const first = await periodic.run(ruleNamed('CROSS_ACCOUNT_ROLE'));
      expect(first).toEqual({ accounts: 2, found: 1, stored: 1, failed: [], resolved: 0 });
      const again = await periodic.run(ruleNamed('CROSS_ACCOUNT_ROLE'));
      expect(again).toEqual({ accounts: 2, found: 1, stored: 0, failed: [], resolved: 0 });
      const page = (
        await h.app.inject({ url: '/api/violations?type=CROSS_ACCOUNT_ROLE', headers: await h.as('jdoe') })
      ).json();
      expect(page.content).toEqual([
        expect.objectContaining({
          account_id: MOTO_ACCOUNT,
          region: 'no-region',
          event_id: `periodic:CROSS_ACCOUNT_ROLE:${partnerRole.arn}`,
          instance_id: partnerRole.id,
          // The run that found it: the job's clock (40 days on, set by nothing else yet: 0).
          event_time: expect.any(String),
          meta_info: { role_arn: partnerRole.arn, role_name: 'partner-access', grantees: [ACCOUNT_C] },
          created_by: 'fullstop',
        }),
      ]);
      // The role fixed (it trusts team-b's account now): the check finds nothing any more and
      // resolves its violation itself, audited in the run's transaction.
      const iam = new IAMClient(motoClientConfig(moto.endpoint));
      const trust = (principal: Record<string, string>) =>
        iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: 'partner-access',
            PolicyDocument: trustPolicy(principal),
          }),
        );
      try {
        await trust({ AWS: ACCOUNT_B });
        const runAt = new Date(Date.now() + offsetDays * DAY_MS);
        const fixed = await periodic.run(ruleNamed('CROSS_ACCOUNT_ROLE'));
        expect(fixed).toEqual({ accounts: 2, found: 0, stored: 0, failed: [], resolved: 1 });
        const [violation] = page.content;
        const resolved = (
          await h.app.inject({ url: `/api/violations/${violation.id}`, headers: await h.as('jdoe') })
        ).json();
        expect(resolved).toMatchObject({
          comment: expect.stringMatching(
            /^no longer found by the periodic check fullstop\.periodic\.cross-account-role at \d{4}-\d\d-\d\dT[\d:.]+Z$/,
          ),
          last_modified_by: 'fullstop',
          version: 1,
        });
        // The run's clock: the time in the comment is when the run looked.
        const at = new Date(resolved.comment.split(' at ')[1]);
        expect(Math.abs(at.getTime() - runAt.getTime())).toBeLessThan(60_000);
        const [resolveEvent] = await h.ctx.auditLog.query({
          service: 'fullstop',
          action: 'fullstop.violation.resolve',
          targetId: String(violation.id),
          limit: 1,
        });
        expect(resolveEvent).toMatchObject({
          actor: 'fullstop',
          details: expect.objectContaining({ automatic: true, comment: resolved.comment }),
        });

        // Opened to the partner again: a new violation (the resolved one keeps its history).
        await trust({ AWS: `arn:aws:iam::${ACCOUNT_C}:root` });
        const back = await periodic.run(ruleNamed('CROSS_ACCOUNT_ROLE'));
        expect(back).toEqual({ accounts: 2, found: 1, stored: 1, failed: [], resolved: 0 });
        const both = (
          await h.app.inject({
            url: '/api/violations?type=CROSS_ACCOUNT_ROLE&checked=true&size=10&sort=id,ASC',
            headers: await h.as('jdoe'),
          })
        ).json();
        expect(
          both.content.map((v: { event_id: string; comment: string | null }) => [v.event_id, v.comment]),
        ).toEqual([[`periodic:CROSS_ACCOUNT_ROLE:${partnerRole.arn}`, resolved.comment]]);
        const open = (
          await h.app.inject({ url: '/api/violations?type=CROSS_ACCOUNT_ROLE', headers: await h.as('jdoe') })
        ).json();
        expect(open.content.map((v: { event_id: string }) => v.event_id)).toEqual([
          `periodic:CROSS_ACCOUNT_ROLE:${partnerRole.arn}#2`,
        ]);
        expect(await periodic.run(ruleNamed('CROSS_ACCOUNT_ROLE'))).toEqual({ ...back, stored: 0 });
        // A disabled account of the team service is still the platform's: trusting it is fine, and
        // the open violation resolves itself.
        const withC = await h.fullstop
          .periodicChecks({
            accounts: {
              listAccounts: async () => [
                ...(await h.teams.listAccounts()),
                { id: ACCOUNT_C, name: '', type: 'aws', description: '', owner: '', disabled: true },
              ],
            },
            clients,
            regions: [MOTO_REGION],
          })
          .run(ruleNamed('CROSS_ACCOUNT_ROLE'));
        expect(withC).toEqual({ accounts: 2, found: 0, stored: 0, failed: [], resolved: 1 });
      } finally {
        // moto is shared by both databases' runs of this block: the next one starts from the same roles.
        await trust({ AWS: `arn:aws:iam::${ACCOUNT_C}:root` });
        iam.destroy();
      }
    });

    it('a run covers every account of the team service through its role, stores once, audits', async () => {
      offsetDays = 40;
      const first = await periodic.run(ruleNamed('ACTIVE_KEY_TOO_OLD'));
      // team-a owns the moto account, team-b ACCOUNT_B: an account without users.
      expect(first).toEqual({ accounts: 2, found: 1, stored: 1, failed: [], resolved: 0 });
      const again = await periodic.run(ruleNamed('ACTIVE_KEY_TOO_OLD'));
      expect(again).toEqual({ accounts: 2, found: 1, stored: 0, failed: [], resolved: 0 });
      const page = (
        await h.app.inject({ url: `/api/violations?type=ACTIVE_KEY_TOO_OLD`, headers: await h.as('admin') })
      ).json();
      expect(page.content).toEqual([
        expect.objectContaining({
          account_id: MOTO_ACCOUNT,
          region: 'no-region',
          event_id: `periodic:ACTIVE_KEY_TOO_OLD:${keyId}`,
          created_by: 'fullstop',
        }),
      ]);
      const runs = await h.ctx.auditLog.query({
        service: 'fullstop',
        action: 'fullstop.periodic_check.run',
        targetId: 'ACTIVE_KEY_TOO_OLD',
        limit: 10,
      });
      expect(runs.map((r) => [r.target_id, r.outcome, r.details])).toEqual([
        ['ACTIVE_KEY_TOO_OLD', 'success', { accounts: 2, found: 1, stored: 0, resolved: 0, failed: [] }],
        ['ACTIVE_KEY_TOO_OLD', 'success', { accounts: 2, found: 1, stored: 1, resolved: 0, failed: [] }],
      ]);

      // The runner's clock decides the age: 100 days on, every Taupage AMI in use is too old.
      offsetDays = 100;
      const outdated = await periodic.run(ruleNamed('OUTDATED_TAUPAGE'));
      expect(outdated.failed).toEqual([]);
      expect(outdated.stored).toBe(3);
      const forB = (
        await h.app.inject({ url: `/api/violations?accounts=${ACCOUNT_B}`, headers: await h.as('bob') })
      ).json();
      expect(forB.totalElements).toBe(0);
    });

    it('reports an account it cannot read, audited as a failure, and stores the others', async () => {
      const UNREACHABLE = '999999999999';
      // An account whose API cannot be reached (an endpoint nobody listens on).
      const broken = new AccountClients({ region: MOTO_REGION, endpoint: 'http://127.0.0.1:9' });
      try {
        const outcome = await h.fullstop
          .periodicChecks({
            accounts: {
              listAccounts: async () => [
                ...(await h.teams.listAccounts()),
                { id: UNREACHABLE, name: '', type: 'aws', description: '', owner: '', disabled: false },
              ],
            },
            clients: {
              for: (account, region) =>
                account === UNREACHABLE ? broken.for(account, region) : clients.for(account, region),
            },
            regions: [MOTO_REGION],
          })
          .run(ruleNamed('UNSECURED_ROOT_USER'));
        expect(outcome.failed).toEqual([
          { account: UNREACHABLE, region: 'no-region', error: expect.any(String) },
        ]);
        // moto's two accounts (team-a's, team-b's) both have a root user without MFA.
        expect(outcome).toEqual(expect.objectContaining({ accounts: 3, found: 2, stored: 2 }));
        const [run] = await h.ctx.auditLog.query({
          service: 'fullstop',
          action: 'fullstop.periodic_check.run',
          targetId: 'UNSECURED_ROOT_USER',
          limit: 1,
        });
        expect(run?.outcome).toBe('failure');

        // team-b's account cannot be read this time: its open violation is not "no longer found".
        const blind = await h.fullstop
          .periodicChecks({
            accounts: h.teams,
            clients: {
              for: (account, region) =>
                account === ACCOUNT_B ? broken.for(account, region) : clients.for(account, region),
            },
            regions: [MOTO_REGION],
          })
          .run(ruleNamed('UNSECURED_ROOT_USER'));
        expect(blind).toEqual({
          accounts: 2,
          found: 1,
          stored: 0,
          resolved: 0,
          failed: [{ account: ACCOUNT_B, region: 'no-region', error: expect.any(String) }],
        });
        const forB = (
          await h.app.inject({
            url: `/api/violations?accounts=${ACCOUNT_B}&type=UNSECURED_ROOT_USER`,
            headers: await h.as('bob'),
          })
        ).json();
        expect(forB.totalElements).toBe(1);
      } finally {
        broken.dispose();
      }
    });

    it('resolves what it no longer finds, but never what a person resolved or an acceptance covers', async () => {
      offsetDays = 100;
      // Three users of team-b's account, created through its fullstop role, each with an access
      // key that is too old 100 days on. Removed again at the end: moto outlives this block.
      const { iam } = await clients.for(ACCOUNT_B, MOTO_REGION);
      const keys: Record<'person' | 'accepted' | 'fixed', string> = { person: '', accepted: '', fixed: '' };
      for (const user of ['person', 'accepted', 'fixed'] as const) {
        await iam.send(new CreateUserCommand({ UserName: `b-${user}` }));
        keys[user] =
          (await iam.send(new CreateAccessKeyCommand({ UserName: `b-${user}` }))).AccessKey?.AccessKeyId ??
          '';
      }
      const bob = await h.as('bob');
      const violationOf = async (user: keyof typeof keys, suffix = '') => {
        const all = (
          await h.app.inject({
            url: `/api/violations?accounts=${ACCOUNT_B}&type=ACTIVE_KEY_TOO_OLD&size=50`,
            headers: bob,
          })
        ).json();
        const checked = (
          await h.app.inject({
            url: `/api/violations?accounts=${ACCOUNT_B}&type=ACTIVE_KEY_TOO_OLD&checked=true&size=50`,
            headers: bob,
          })
        ).json();
        return [...all.content, ...checked.content].find(
          (v: { event_id: string }) => v.event_id === `periodic:ACTIVE_KEY_TOO_OLD:${keys[user]}${suffix}`,
        );
      };
      const keyStatus = (user: keyof typeof keys, Status: 'Active' | 'Inactive') =>
        iam.send(new UpdateAccessKeyCommand({ UserName: `b-${user}`, AccessKeyId: keys[user], Status }));
      try {
        // The moto account's old key was stored by an earlier test; the three are new.
        expect(await periodic.run(ruleNamed('ACTIVE_KEY_TOO_OLD'))).toEqual({
          accounts: 2,
          found: 4,
          stored: 3,
          resolved: 0,
          failed: [],
        });
        const personal = await violationOf('person');
        const resolution = await h.app.inject({
          method: 'POST',
          url: `/api/violations/${personal.id}/resolution`,
          headers: { ...bob, 'content-type': 'text/plain' },
          payload: 'Rotation planned for next sprint',
        });
        expect(resolution.statusCode, resolution.body).toBe(200);
        const accepted = await h.app.inject({
          method: 'POST',
          url: '/api/risk-acceptances',
          headers: bob,
          payload: {
            criteria: { accounts: [ACCOUNT_B], meta_info: '$[?(@.user_name == "b-accepted")]' },
            reason: 'Legacy integration, replaced in Q1',
            team: 'team-b',
            expires: new Date(Date.now() + 30 * DAY_MS).toISOString(),
          },
        });
        expect(accepted.statusCode, accepted.body).toBe(201);
        expect(accepted.json().covered_violations).toBe(1);

        // The covered key deleted, the last one deactivated; the person's key still active.
        await iam.send(new DeleteAccessKeyCommand({ UserName: 'b-accepted', AccessKeyId: keys.accepted }));
        await keyStatus('fixed', 'Inactive');
        expect(await periodic.run(ruleNamed('ACTIVE_KEY_TOO_OLD'))).toEqual({
          accounts: 2,
          found: 2,
          stored: 0,
          resolved: 1,
          failed: [],
        });
        expect(await violationOf('fixed')).toMatchObject({
          comment: expect.stringMatching(
            /^no longer found by the periodic check fullstop\.periodic\.active-key-too-old at /,
          ),
          last_modified_by: 'fullstop',
        });
        // Resolved by a person: their comment stays, the finding that persists adds nothing.
        expect(await violationOf('person')).toMatchObject({
          comment: 'Rotation planned for next sprint',
          last_modified_by: 'bob',
        });
        // Covered by the acceptance: left covered, not resolved, though its key is gone.
        expect(await violationOf('accepted')).toMatchObject({
          comment: null,
          rule_id: accepted.json().id,
        });

        // The key active again: a new violation; the resolved one keeps its comment.
        await keyStatus('fixed', 'Active');
        expect(await periodic.run(ruleNamed('ACTIVE_KEY_TOO_OLD'))).toEqual({
          accounts: 2,
          found: 3,
          stored: 1,
          resolved: 0,
          failed: [],
        });
        expect(await violationOf('fixed', '#2')).toMatchObject({ comment: null, rule_id: null });
        expect(await periodic.run(ruleNamed('ACTIVE_KEY_TOO_OLD'))).toEqual({
          accounts: 2,
          found: 3,
          stored: 0,
          resolved: 0,
          failed: [],
        });
      } finally {
        for (const UserName of ['b-person', 'b-accepted', 'b-fixed']) {
          const { AccessKeyMetadata = [] } = await iam.send(new ListAccessKeysCommand({ UserName }));
          for (const { AccessKeyId } of AccessKeyMetadata)
            await iam.send(new DeleteAccessKeyCommand({ UserName, AccessKeyId }));
          await iam.send(new DeleteUserCommand({ UserName }));
        }
      }
    });
  });
});
