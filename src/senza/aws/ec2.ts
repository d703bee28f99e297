import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeNatGatewaysCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Filter,
  GetConsoleOutputCommand,
  type Image,
  type Instance,
  type IpPermission,
  type LaunchTemplateVersion,
  type NatGateway,
  type RequestLaunchTemplateData,
  type SecurityGroup,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import { type AwsSettings, clientConfig } from './aws-settings.js';
import { awsCall } from './aws-error.js';

const S = 'EC2';

/** Thin adapter over the EC2 client. */
export class Ec2Adapter {
  readonly client: EC2Client;
  constructor(settings: AwsSettings) {
    this.client = new EC2Client(clientConfig(settings));
  }

  async describeVpcs(): Promise<Vpc[]> {
    const r = await awsCall(S, 'DescribeVpcs', () => this.client.send(new DescribeVpcsCommand({})));
    return r.Vpcs ?? [];
  }

  async describeSubnets(vpcId: string | undefined): Promise<Subnet[]> {
    const Filters: Filter[] = vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : [];
    const subnets: Subnet[] = [];
    let NextToken: string | undefined;
    do {
      const r = await awsCall(S, 'DescribeSubnets', () =>
        this.client.send(new DescribeSubnetsCommand({ Filters, NextToken })),
      );
      subnets.push(...(r.Subnets ?? []));
      NextToken = r.NextToken;
    } while (NextToken);
    return subnets;
  }

  async describeImages(input: { filters?: Filter[]; imageIds?: string[] }): Promise<Image[]> {
    if (input.imageIds && !input.imageIds.length) return [];
    const r = await awsCall(S, 'DescribeImages', () =>
      this.client.send(
        new DescribeImagesCommand({
          ...(input.filters ? { Filters: input.filters } : {}),
          ...(input.imageIds ? { ImageIds: input.imageIds } : {}),
        }),
      ),
    );
    return r.Images ?? [];
  }

  async securityGroupByName(name: string): Promise<SecurityGroup | undefined> {
    const r = await awsCall(S, 'DescribeSecurityGroups', () =>
      this.client.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }),
      ),
    );
    return r.SecurityGroups?.[0];
  }

  async createSecurityGroup(name: string, description: string, vpcId: string): Promise<string> {
    const r = await awsCall(S, 'CreateSecurityGroup', () =>
      this.client.send(
        new CreateSecurityGroupCommand({ GroupName: name, Description: description, VpcId: vpcId }),
      ),
    );
    await awsCall(S, 'CreateTags', () =>
      this.client.send(
        new CreateTagsCommand({ Resources: [r.GroupId!], Tags: [{ Key: 'Name', Value: name }] }),
      ),
    );
    return r.GroupId!;
  }

  async authorizeIngress(groupId: string, permissions: IpPermission[]): Promise<void> {
    await awsCall(S, 'AuthorizeSecurityGroupIngress', () =>
      this.client.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions }),
      ),
    );
  }

  async describeInstances(filters: Filter[], instanceIds?: string[]): Promise<Instance[]> {
    const instances: Instance[] = [];
    let NextToken: string | undefined;
    do {
      const r = await awsCall(S, 'DescribeInstances', () =>
        this.client.send(
          new DescribeInstancesCommand({
            ...(filters.length ? { Filters: filters } : {}),
            ...(instanceIds ? { InstanceIds: instanceIds } : {}),
            NextToken,
          }),
        ),
      );
      for (const reservation of r.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
      NextToken = r.NextToken;
    } while (NextToken);
    return instances;
  }

  /** The console output as text (EC2 returns it base64-encoded), or '' when there is none yet. */
  async consoleOutput(instanceId: string): Promise<string> {
    const r = await awsCall(S, 'GetConsoleOutput', () =>
      this.client.send(new GetConsoleOutputCommand({ InstanceId: instanceId })),
    );
    return r.Output ? Buffer.from(r.Output, 'base64').toString('utf8') : '';
  }

  async describeNatGateways(): Promise<NatGateway[]> {
    const r = await awsCall(S, 'DescribeNatGateways', () =>
      this.client.send(new DescribeNatGatewaysCommand({})),
    );
    return r.NatGateways ?? [];
  }

  async launchTemplateVersion(
    templateId: string,
    version: string,
  ): Promise<LaunchTemplateVersion | undefined> {
    const r = await awsCall(S, 'DescribeLaunchTemplateVersions', () =>
      this.client.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }),
      ),
    );
    return r.LaunchTemplateVersions?.[0];
  }

  async createLaunchTemplateVersion(
    templateId: string,
    sourceVersion: string,
    data: RequestLaunchTemplateData,
  ): Promise<number> {
    const r = await awsCall(S, 'CreateLaunchTemplateVersion', () =>
      this.client.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: templateId,
          SourceVersion: sourceVersion,
          LaunchTemplateData: data,
          VersionDescription: 'senza patch',
        }),
      ),
    );
    return r.LaunchTemplateVersion!.VersionNumber!;
  }
}
