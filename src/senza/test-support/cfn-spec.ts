/**
 * The resource types Senza emits (plus AWS::S3::Bucket, which definitions commonly add by hand),
 * with the property names CloudFormation accepts for each. Golden tests check every emitted
 * resource against it.
 *
 * Source: the AWS CloudFormation provider schemas (the registry's resource schemas) as vendored
 * by aws-cloudformation/cfn-lint at
 * `src/cfnlint/data/schemas/providers/us_east_1/aws-<service>-<resource>.json`, read at the commit
 * named on each entry. Per type:
 * - `required`: the schema's top-level `required` list;
 * - `properties`: the keys of its top-level `properties` object (every schema sets
 *   `additionalProperties: false`, so no other name is accepted);
 * - `readOnly`: the top-level names in `readOnlyProperties` (outputs such as `Arn`, which a
 *   template cannot set);
 * - `exactlyOneOf`: groups from `requiredXor` (or the equivalent top-level `oneOf`) of which a
 *   resource has to set exactly one.
 */
export interface ResourceSpec {
  readonly required: readonly string[];
  readonly properties: readonly string[];
  readonly readOnly: readonly string[];
  readonly exactlyOneOf?: readonly (readonly string[])[];
}

export const RESOURCE_SPECS: Readonly<Record<string, ResourceSpec>> = {
  // aws-autoscaling-autoscalinggroup.json @ 02c6d2484047250d906772d166f8194468ff1e46
  'AWS::AutoScaling::AutoScalingGroup': {
    required: ['MinSize', 'MaxSize'],
    properties: [
      'AutoScalingGroupName',
      'AvailabilityZoneDistribution',
      'AvailabilityZoneImpairmentPolicy',
      'AvailabilityZones',
      'CapacityRebalance',
      'CapacityReservationSpecification',
      'Context',
      'Cooldown',
      'DefaultInstanceWarmup',
      'DesiredCapacity',
      'DesiredCapacityType',
      'HealthCheckGracePeriod',
      'HealthCheckType',
      'InstanceId',
      'InstanceMaintenancePolicy',
      'LaunchConfigurationName',
      'LaunchTemplate',
      'LifecycleHookSpecificationList',
      'LoadBalancerNames',
      'MaxInstanceLifetime',
      'MaxSize',
      'MetricsCollection',
      'MinSize',
      'MixedInstancesPolicy',
      'NewInstancesProtectedFromScaleIn',
      'NotificationConfiguration',
      'NotificationConfigurations',
      'PlacementGroup',
      'ServiceLinkedRoleARN',
      'SkipZonalShiftValidation',
      'Tags',
      'TargetGroupARNs',
      'TerminationPolicies',
      'TrafficSources',
      'VPCZoneIdentifier',
    ],
    readOnly: [],
    exactlyOneOf: [['InstanceId', 'LaunchConfigurationName', 'LaunchTemplate', 'MixedInstancesPolicy']],
  },
  // aws-autoscaling-launchconfiguration.json @ 00501ed97409678a7366908b1cb46fec43d3e783
  'AWS::AutoScaling::LaunchConfiguration': {
    required: ['ImageId', 'InstanceType'],
    properties: [
      'AssociatePublicIpAddress',
      'BlockDeviceMappings',
      'ClassicLinkVPCId',
      'ClassicLinkVPCSecurityGroups',
      'EbsOptimized',
      'IamInstanceProfile',
      'ImageId',
      'InstanceId',
      'InstanceMonitoring',
      'InstanceType',
      'KernelId',
      'KeyName',
      'LaunchConfigurationName',
      'MetadataOptions',
      'PlacementTenancy',
      'RamDiskId',
      'SecurityGroups',
      'SpotPrice',
      'UserData',
    ],
    readOnly: [],
  },
  // aws-autoscaling-scalingpolicy.json @ 02c6d2484047250d906772d166f8194468ff1e46
  'AWS::AutoScaling::ScalingPolicy': {
    required: ['AutoScalingGroupName'],
    properties: [
      'AdjustmentType',
      'Arn',
      'AutoScalingGroupName',
      'Cooldown',
      'EstimatedInstanceWarmup',
      'MetricAggregationType',
      'MinAdjustmentMagnitude',
      'PolicyName',
      'PolicyType',
      'PredictiveScalingConfiguration',
      'ScalingAdjustment',
      'StepAdjustments',
      'TargetTrackingConfiguration',
    ],
    readOnly: ['PolicyName', 'Arn'],
  },
  // aws-cloudwatch-alarm.json @ 19bc5ff9984a6a235244cd114339754df4440afd
  'AWS::CloudWatch::Alarm': {
    required: ['ComparisonOperator', 'EvaluationPeriods'],
    properties: [
      'ActionsEnabled',
      'AlarmActions',
      'AlarmDescription',
      'AlarmName',
      'Arn',
      'ComparisonOperator',
      'DatapointsToAlarm',
      'Dimensions',
      'EvaluateLowSampleCountPercentile',
      'EvaluationPeriods',
      'ExtendedStatistic',
      'InsufficientDataActions',
      'MetricName',
      'Metrics',
      'Namespace',
      'OKActions',
      'Period',
      'Statistic',
      'Threshold',
      'ThresholdMetricId',
      'TreatMissingData',
      'Unit',
    ],
    readOnly: ['Arn'],
    exactlyOneOf: [['Metrics', 'MetricName']],
  },
  // aws-ec2-launchtemplate.json @ 023701ccafc6d3789d9699d9f7e6a75ecf2ee8c0
  'AWS::EC2::LaunchTemplate': {
    required: ['LaunchTemplateData'],
    properties: [
      'DefaultVersionNumber',
      'LatestVersionNumber',
      'LaunchTemplateData',
      'LaunchTemplateId',
      'LaunchTemplateName',
      'TagSpecifications',
      'VersionDescription',
    ],
    readOnly: ['DefaultVersionNumber', 'LaunchTemplateId', 'LatestVersionNumber'],
  },
  // aws-elasticloadbalancing-loadbalancer.json @ 1d1ddeaf7cea41442c83bb7b0c433bc383ff5090
  'AWS::ElasticLoadBalancing::LoadBalancer': {
    required: ['Listeners'],
    properties: [
      'AccessLoggingPolicy',
      'AppCookieStickinessPolicy',
      'AvailabilityZones',
      'CanonicalHostedZoneName',
      'CanonicalHostedZoneNameID',
      'ConnectionDrainingPolicy',
      'ConnectionSettings',
      'CrossZone',
      'DNSName',
      'HealthCheck',
      'Id',
      'Instances',
      'LBCookieStickinessPolicy',
      'Listeners',
      'LoadBalancerName',
      'Policies',
      'Scheme',
      'SecurityGroups',
      'SourceSecurityGroup',
      'Subnets',
      'Tags',
    ],
    // SourceSecurityGroup itself is listed only through its sub-properties GroupName and OwnerAlias.
    readOnly: [
      'Id',
      'CanonicalHostedZoneName',
      'CanonicalHostedZoneNameID',
      'DNSName',
      'SourceSecurityGroup',
    ],
  },
  // aws-elasticloadbalancingv2-listener.json @ 0287b5b5ea3a3a96c3d3a819611672126d86a609
  'AWS::ElasticLoadBalancingV2::Listener': {
    required: ['LoadBalancerArn', 'DefaultActions'],
    properties: [
      'AlpnPolicy',
      'Certificates',
      'DefaultActions',
      'ListenerArn',
      'LoadBalancerArn',
      'MutualAuthentication',
      'Port',
      'Protocol',
      'SslPolicy',
    ],
    readOnly: ['ListenerArn'],
  },
  // aws-elasticloadbalancingv2-loadbalancer.json @ 1422aeee71f061aea0857e4e2a5ae2a0da8425eb
  'AWS::ElasticLoadBalancingV2::LoadBalancer': {
    required: [],
    properties: [
      'CanonicalHostedZoneID',
      'DNSName',
      'EnablePrefixForIpv6SourceNat',
      'EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic',
      'IpAddressType',
      'LoadBalancerArn',
      'LoadBalancerAttributes',
      'LoadBalancerFullName',
      'LoadBalancerName',
      'Name',
      'Scheme',
      'SecurityGroups',
      'SubnetMappings',
      'Subnets',
      'Tags',
      'Type',
    ],
    readOnly: [
      'LoadBalancerName',
      'LoadBalancerFullName',
      'CanonicalHostedZoneID',
      'LoadBalancerArn',
      'DNSName',
    ],
    exactlyOneOf: [['Subnets', 'SubnetMappings']],
  },
  // aws-elasticloadbalancingv2-targetgroup.json @ 02c6d2484047250d906772d166f8194468ff1e46
  'AWS::ElasticLoadBalancingV2::TargetGroup': {
    required: [],
    properties: [
      'HealthCheckEnabled',
      'HealthCheckIntervalSeconds',
      'HealthCheckPath',
      'HealthCheckPort',
      'HealthCheckProtocol',
      'HealthCheckTimeoutSeconds',
      'HealthyThresholdCount',
      'IpAddressType',
      'LoadBalancerArns',
      'Matcher',
      'Name',
      'Port',
      'Protocol',
      'ProtocolVersion',
      'Tags',
      'TargetGroupArn',
      'TargetGroupAttributes',
      'TargetGroupFullName',
      'TargetGroupName',
      'TargetType',
      'Targets',
      'UnhealthyThresholdCount',
      'VpcId',
    ],
    readOnly: ['LoadBalancerArns', 'TargetGroupArn', 'TargetGroupName', 'TargetGroupFullName'],
  },
  // aws-iam-instanceprofile.json @ 100657e40b63a5d64884fc98753da7504eb2ab08
  'AWS::IAM::InstanceProfile': {
    required: ['Roles'],
    properties: ['Arn', 'InstanceProfileName', 'Path', 'Roles'],
    readOnly: ['Arn'],
  },
  // aws-iam-role.json @ 00501ed97409678a7366908b1cb46fec43d3e783
  'AWS::IAM::Role': {
    required: ['AssumeRolePolicyDocument'],
    properties: [
      'Arn',
      'AssumeRolePolicyDocument',
      'Description',
      'ManagedPolicyArns',
      'MaxSessionDuration',
      'Path',
      'PermissionsBoundary',
      'Policies',
      'RoleId',
      'RoleName',
      'Tags',
    ],
    readOnly: ['Arn', 'RoleId'],
  },
  // aws-route53-recordset.json @ 214656a5aa0896f2bc0498cbaf18f3e23adebd4a
  'AWS::Route53::RecordSet': {
    required: ['Type', 'Name'],
    properties: [
      'AliasTarget',
      'CidrRoutingConfig',
      'Comment',
      'Failover',
      'GeoLocation',
      'HealthCheckId',
      'HostedZoneId',
      'HostedZoneName',
      'Id',
      'MultiValueAnswer',
      'Name',
      'Region',
      'ResourceRecords',
      'SetIdentifier',
      'TTL',
      'Type',
      'Weight',
    ],
    readOnly: ['Id'],
    exactlyOneOf: [['HostedZoneId', 'HostedZoneName']],
  },
  // aws-sqs-queue.json @ 03b8406cf7b96acfde524348c1f919b296fdbb93
  'AWS::SQS::Queue': {
    required: [],
    properties: [
      'Arn',
      'ContentBasedDeduplication',
      'DeduplicationScope',
      'DelaySeconds',
      'FifoQueue',
      'FifoThroughputLimit',
      'KmsDataKeyReusePeriodSeconds',
      'KmsMasterKeyId',
      'MaximumMessageSize',
      'MessageRetentionPeriod',
      'QueueName',
      'QueueUrl',
      'ReceiveMessageWaitTimeSeconds',
      'RedriveAllowPolicy',
      'RedrivePolicy',
      'SqsManagedSseEnabled',
      'Tags',
      'VisibilityTimeout',
    ],
    readOnly: ['QueueUrl', 'Arn'],
  },
  // aws-s3-bucket.json @ 06cb246e25caa15cfee2405abc4797972f38ddef
  'AWS::S3::Bucket': {
    required: [],
    properties: [
      'AccelerateConfiguration',
      'AccessControl',
      'AnalyticsConfigurations',
      'Arn',
      'BucketEncryption',
      'BucketName',
      'CorsConfiguration',
      'DomainName',
      'DualStackDomainName',
      'IntelligentTieringConfigurations',
      'InventoryConfigurations',
      'LifecycleConfiguration',
      'LoggingConfiguration',
      'MetricsConfigurations',
      'NotificationConfiguration',
      'ObjectLockConfiguration',
      'ObjectLockEnabled',
      'OwnershipControls',
      'PublicAccessBlockConfiguration',
      'RegionalDomainName',
      'ReplicationConfiguration',
      'Tags',
      'VersioningConfiguration',
      'WebsiteConfiguration',
      'WebsiteURL',
    ],
    readOnly: ['Arn', 'DomainName', 'DualStackDomainName', 'RegionalDomainName', 'WebsiteURL'],
  },
};

/** The required properties of each type (the `required` lists of {@link RESOURCE_SPECS}). */
export const REQUIRED_PROPERTIES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(RESOURCE_SPECS).map(([type, spec]) => [type, spec.required]),
);

/**
 * Problems of a template: unknown resource types, missing required properties, property names the
 * type does not accept (or only reports), `exactlyOneOf` groups not set exactly once, dangling Refs.
 */
export function checkTemplate(template: {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Parameters?: Record<string, unknown>;
  Mappings?: Record<string, unknown>;
}): string[] {
  const problems: string[] = [];
  const resources = template.Resources ?? {};
  for (const [id, r] of Object.entries(resources)) {
    const spec = RESOURCE_SPECS[r.Type];
    if (!spec) {
      problems.push(`${id}: resource type ${r.Type} is not in the spec table`);
      continue;
    }
    const props = r.Properties ?? {};
    for (const p of spec.required)
      if (props[p] === undefined) problems.push(`${id}: ${r.Type} requires ${p}`);
    for (const p of Object.keys(props)) {
      if (!spec.properties.includes(p)) problems.push(`${id}: ${r.Type} has no property ${p}`);
      else if (spec.readOnly.includes(p)) problems.push(`${id}: ${r.Type} property ${p} is read-only`);
    }
    for (const group of spec.exactlyOneOf ?? []) {
      const set = group.filter((p) => props[p] !== undefined);
      if (set.length !== 1)
        problems.push(`${id}: ${r.Type} needs exactly one of ${group.join(', ')} (has ${set.length})`);
    }
  }
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}[${i}]`));
    else if (node && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if (
        typeof obj.Ref === 'string' &&
        !obj.Ref.startsWith('AWS::') &&
        !(obj.Ref in resources) &&
        !(obj.Ref in (template.Parameters ?? {}))
      ) {
        problems.push(`${at}: Ref to unknown ${obj.Ref}`);
      }
      const getAtt = obj['Fn::GetAtt'];
      if (Array.isArray(getAtt) && !(String(getAtt[0]) in resources))
        problems.push(`${at}: GetAtt of unknown ${String(getAtt[0])}`);
      const findInMap = obj['Fn::FindInMap'];
      if (Array.isArray(findInMap) && !(String(findInMap[0]) in (template.Mappings ?? {}))) {
        problems.push(`${at}: FindInMap of unknown mapping ${String(findInMap[0])}`);
      }
      for (const [k, v] of Object.entries(obj)) walk(v, `${at}.${k}`);
    }
  };
  walk(resources, 'Resources');
  return problems;
}
