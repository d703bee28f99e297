import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { type AccountClientFactory, accountClientFactory } from '../../platform/aws/account-clients.js';
import type { AwsSettings } from '../../platform/aws/client-config.js';
import { Cache } from '../../platform/cache/cache.js';
import { accountCredentials } from './assume-role.js';

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

/** The SDK clients of one account in one region. */
export interface AccountAwsClients {
  ec2: EC2Client;
  elb: ElasticLoadBalancingClient;
  elbv2: ElasticLoadBalancingV2Client;
  iam: IAMClient;
}

/**
 * SDK clients reading one account in one region. With `assumeRoleName` each account is read
 * through `arn:aws:iam::<account>:role/<name>` (STUPS: `fullstop`); clients are built once per
 * account and region and share the assumed role's credentials.
 */
export class AccountClients implements SubnetCatalog {
  readonly #accounts = new Map<string, AccountClientFactory>();
  // A CloudTrail file launches many instances into few subnets; subnets' names rarely change.
  readonly #subnets = new Cache<string, { subnet?: SubnetInfo }>({
    name: 'fullstop-subnets',
    max: 10_000,
    ttlMs: 10 * 60_000,
  });

  constructor(
    private readonly aws: AwsSettings,
    private readonly options: { assumeRoleName?: string | undefined } = {},
  ) {}

  for(account: string, region: string): AccountAwsClients {
    let clients = this.#accounts.get(account);
    if (!clients) {
      clients = accountClientFactory(
        this.aws,
        accountCredentials(this.aws, account, this.options.assumeRoleName),
      );
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
      const { Subnets } = await this.for(account, region).ec2.send(
        new DescribeSubnetsCommand({ SubnetIds: [subnetId] }),
      );
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

  dispose(): void {
    for (const clients of this.#accounts.values()) clients.destroy();
    this.#accounts.clear();
  }
}
