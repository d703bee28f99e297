import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DescribeImagesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAccountAliasesCommand,
  ListRolePoliciesCommand,
  ListServerCertificatesCommand,
} from '@aws-sdk/client-iam';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';

/** Every SDK client Senza uses, mocked; `reset()` between tests, `restore()` at the end. */
export function mockAws() {
  const mocks = {
    cf: mockClient(CloudFormationClient),
    ec2: mockClient(EC2Client),
    asg: mockClient(AutoScalingClient),
    elb: mockClient(ElasticLoadBalancingClient),
    elbv2: mockClient(ElasticLoadBalancingV2Client),
    r53: mockClient(Route53Client),
    iam: mockClient(IAMClient),
    acm: mockClient(ACMClient),
    kms: mockClient(KMSClient),
    sts: mockClient(STSClient),
  };
  return {
    ...mocks,
    reset() {
      for (const m of Object.values(mocks)) m.reset();
    },
    restore() {
      for (const m of Object.values(mocks)) m.restore();
    },
  };
}
export type AwsMocks = ReturnType<typeof mockAws>;

/**
 * A STUPS-style account in eu-west-1: alias `myorg-myteam`, one hosted zone `example.org`,
 * dmz and internal subnets in two AZs, Taupage images, app security groups, one ACM and one
 * IAM certificate, roles with inline policies.
 */
export function stupsAccount(m: AwsMocks): void {
  m.iam.on(ListAccountAliasesCommand).resolves({ AccountAliases: ['myorg-myteam'] });
  m.sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  m.r53.on(ListHostedZonesCommand).resolves({
    HostedZones: [
      { Id: '/hostedzone/Z1', Name: 'example.org.', CallerReference: 'x', Config: { PrivateZone: false } },
    ],
    IsTruncated: false,
    Marker: '',
    MaxItems: 100,
  });
  // Ids that reach a load balancer or target group have AWS's format: cfn-lint checks it there.
  m.ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-0123456789abcdef0', IsDefault: true }] });
  m.ec2.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      {
        SubnetId: 'subnet-dmz-a',
        AvailabilityZone: 'eu-west-1a',
        Tags: [{ Key: 'Name', Value: 'dmz-eu-west-1a' }],
      },
      {
        SubnetId: 'subnet-dmz-b',
        AvailabilityZone: 'eu-west-1b',
        Tags: [{ Key: 'Name', Value: 'dmz-eu-west-1b' }],
      },
      {
        SubnetId: 'subnet-int-a',
        AvailabilityZone: 'eu-west-1a',
        Tags: [{ Key: 'Name', Value: 'internal-eu-west-1a' }],
      },
      {
        SubnetId: 'subnet-int-b',
        AvailabilityZone: 'eu-west-1b',
        Tags: [{ Key: 'Name', Value: 'internal-eu-west-1b' }],
      },
      {
        SubnetId: 'subnet-nat-a',
        AvailabilityZone: 'eu-west-1a',
        Tags: [{ Key: 'Name', Value: 'nat-eu-west-1a' }],
      },
    ],
  });
  m.ec2.on(DescribeImagesCommand).resolves({ Images: [] });
  m.ec2
    .on(DescribeImagesCommand, {
      Filters: [
        { Name: 'name', Values: ['Taupage-AMI-*'] },
        { Name: 'is-public', Values: ['false'] },
        { Name: 'state', Values: ['available'] },
        { Name: 'root-device-type', Values: ['ebs'] },
      ],
    })
    .resolves({
      Images: [
        { ImageId: 'ami-old', Name: 'Taupage-AMI-20240101-120000' },
        { ImageId: 'ami-taupage', Name: 'Taupage-AMI-20250301-120000' },
      ],
    });
  m.ec2
    .on(DescribeImagesCommand, {
      Filters: [
        { Name: 'name', Values: ['TaupageStaging-AMI-*'] },
        { Name: 'is-public', Values: ['false'] },
        { Name: 'state', Values: ['available'] },
        { Name: 'root-device-type', Values: ['ebs'] },
      ],
    })
    .resolves({ Images: [{ ImageId: 'ami-staging', Name: 'TaupageStaging-AMI-20250310-120000' }] });
  m.ec2.on(DescribeSecurityGroupsCommand).callsFake((input: { Filters?: { Values?: string[] }[] }) => {
    const name = input.Filters?.[0]?.Values?.[0] ?? '';
    const ids: Record<string, string> = {
      'app-hello-world': 'sg-app',
      'app-hello-world-lb': 'sg-lb',
      'app-myapp': 'sg-myapp',
      'app-myapp-lb': 'sg-0123456789abcdef0',
    };
    return { SecurityGroups: ids[name] ? [{ GroupId: ids[name], GroupName: name }] : [] };
  });
  m.acm.on(ListCertificatesCommand).resolves({
    CertificateSummaryList: [{ CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/wild' }],
  });
  m.acm.on(DescribeCertificateCommand).resolves({
    Certificate: {
      CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/wild',
      DomainName: '*.example.org',
      SubjectAlternativeNames: ['*.example.org', 'example.org'],
      NotAfter: new Date('2030-01-01T00:00:00Z'),
    },
  });
  m.iam.on(ListServerCertificatesCommand).resolves({
    ServerCertificateMetadataList: [
      {
        ServerCertificateName: 'example-org',
        Arn: 'arn:aws:iam::123456789012:server-certificate/example-org',
        Path: '/',
        ServerCertificateId: 'C1',
      },
    ],
  });
  m.iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => ({
    Role: {
      RoleName: input.RoleName,
      Arn: `arn:aws:iam::123456789012:role/${input.RoleName}`,
      Path: '/',
      RoleId: 'R',
      CreateDate: new Date(0),
    },
  }));
  m.iam
    .on(ListRolePoliciesCommand)
    .callsFake((input: { RoleName: string }) => ({ PolicyNames: [`${input.RoleName}-policy`] }));
  m.iam.on(GetRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string }) => ({
    RoleName: input.RoleName,
    PolicyName: input.PolicyName,
    PolicyDocument: encodeURIComponent(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${input.RoleName}/*` },
        ],
      }),
    ),
  }));
  m.kms.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => ({
    Plaintext: Buffer.from(`decrypted:${Buffer.from(input.CiphertextBlob).toString('utf8')}`),
  }));
}
