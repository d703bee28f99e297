import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { type AccountClientFactory, accountClientFactory } from '../../platform/aws/account-clients.js';
import type { AwsSettings } from '../../platform/aws/client-config.js';
import { Cache } from '../../platform/cache/cache.js';
import { AccountAccess } from './assume-role.js';
import { sdk } from './sdk.js';

/** What fullstop. needs to know about a subnet: its Name tag and whether it gives instances a public IP. */
export interface SubnetInfo {
  subnetId: string;
  name: string | null;
  mapPublicIpOnLaunch: boolean;
}

/** Subnets of the accounts fullstop. audits (INTERNAL_SUBNET_WITH_PUBLIC_IP). */
export interface SubnetCatalog {
  /** The subnet, or undefined when the account has no such subnet (any more). */
  describe(account: string, region: string, subnetId: string): Promise<SubnetInfo | undefined>;
}

/** What the instance rules need to know of an instance the CloudTrail record only names (StartInstances). */
export interface InstanceInfo {
  instanceId: string;
  imageId: string | undefined;
  keyName: string | undefined;
  subnetId: string | undefined;
  /** Its public IP now, if it has one. */
  publicIp: string | undefined;
}

/** Instances of the accounts fullstop. audits, as EC2 describes them now. */
export interface InstanceCatalog {
  /** The instances among `ids` EC2 still knows (terminated ones for about an hour); others are left out. */
  describeInstances(account: string, region: string, ids: readonly string[]): Promise<InstanceInfo[]>;
  /** Whether the instance has user data (STUPS asked the same instance attribute). */
  hasUserData(account: string, region: string, instanceId: string): Promise<boolean>;
}

/** The SDK clients of one account in one region. */
export interface AccountAwsClients {
  ec2: EC2Client;
  elb: ElasticLoadBalancingClient;
  elbv2: ElasticLoadBalancingV2Client;
  iam: IAMClient;
}

/**
 * SDK clients reading one account in one region, through `access` (by default each account's
 * `fullstop` role, see `AccountAccess`); clients are built once per account and region and share
 * the account's credentials.
 */
export class AccountClients implements SubnetCatalog, InstanceCatalog {
  readonly #accounts = new Map<string, AccountClientFactory>();
  // A CloudTrail file launches many instances into few subnets; subnets' names rarely change.
  readonly #subnets = new Cache<string, { subnet?: SubnetInfo }>({
    name: 'fullstop-subnets',
    max: 10_000,
    ttlMs: 10 * 60_000,
  });

  readonly #access: AccountAccess;
  readonly #ownsAccess: boolean;

  /** `access` shared with other readers (the module's); else one of its own with `assumeRoleName`. */
  constructor(
    private readonly aws: AwsSettings,
    options: { access?: AccountAccess; assumeRoleName?: string | undefined } = {},
  ) {
    this.#access = options.access ?? new AccountAccess(aws, { roleName: options.assumeRoleName });
    this.#ownsAccess = options.access === undefined;
  }

  /** The clients of `account` in `region`; the SDK packages are imported on the first call. */
  async for(account: string, region: string): Promise<AccountAwsClients> {
    const [{ EC2Client }, { ElasticLoadBalancingClient }, { ElasticLoadBalancingV2Client }, { IAMClient }] =
      await Promise.all([sdk.ec2(), sdk.elb(), sdk.elbv2(), sdk.iam()]);
    let clients = this.#accounts.get(account);
    if (!clients) {
      clients = accountClientFactory(this.aws, {
        credentials: this.#access.clientOptions(account).credentials,
      });
      this.#accounts.set(account, clients);
    }
    return {
      ec2: clients.client(EC2Client, region),
      elb: clients.client(ElasticLoadBalancingClient, region),
      elbv2: clients.client(ElasticLoadBalancingV2Client, region),
      iam: clients.client(IAMClient, region),
    };
  }

  async describe(account: string, region: string, subnetId: string): Promise<SubnetInfo | undefined> {
    const key = `${account}/${region}/${subnetId}`;
    const cached = this.#subnets.get(key);
    if (cached) return cached.subnet;
    const subnet = await this.#describeSubnet(account, region, subnetId);
    this.#subnets.set(key, subnet ? { subnet } : {});
    return subnet;
  }

  async #describeSubnet(account: string, region: string, subnetId: string): Promise<SubnetInfo | undefined> {
    try {
      const { DescribeSubnetsCommand } = await sdk.ec2();
      const { Subnets } = await (
        await this.for(account, region)
      ).ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
      const subnet = Subnets?.[0];
      if (!subnet?.SubnetId) return undefined;
      return {
        subnetId: subnet.SubnetId,
        name: subnet.Tags?.find((t) => t.Key === 'Name')?.Value ?? null,
        mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch === true,
      };
    } catch (error) {
      // A subnet deleted since the event: nothing left to judge. Any other failure is retried.
      if (error instanceof Error && error.name === 'InvalidSubnetID.NotFound') return undefined;
      throw error;
    }
  }

  async describeInstances(account: string, region: string, ids: readonly string[]): Promise<InstanceInfo[]> {
    if (!ids.length) return [];
    // A filter, not InstanceIds: an id EC2 no longer knows is left out instead of failing the call.
    const found: InstanceInfo[] = [];
    const { DescribeInstancesCommand } = await sdk.ec2();
    const { ec2 } = await this.for(account, region);
    let NextToken: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [...ids] }], NextToken }),
      );
      for (const reservation of page.Reservations ?? [])
        for (const i of reservation.Instances ?? [])
          if (i.InstanceId)
            found.push({
              instanceId: i.InstanceId,
              imageId: i.ImageId,
              keyName: i.KeyName || undefined,
              subnetId: i.SubnetId,
              publicIp: i.PublicIpAddress || undefined,
            });
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  }

  async hasUserData(account: string, region: string, instanceId: string): Promise<boolean> {
    const { DescribeInstanceAttributeCommand } = await sdk.ec2();
    const { UserData } = await (
      await this.for(account, region)
    ).ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
    return Boolean(UserData?.Value);
  }

  dispose(): void {
    for (const clients of this.#accounts.values()) clients.destroy();
    this.#accounts.clear();
    if (this.#ownsAccess) this.#access.dispose();
  }
}
