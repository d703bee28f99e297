import { z } from 'zod';
import { CliError } from '../../platform/cli/cli-error.js';
import { InputError } from '../../platform/errors.js';
import { renderUserData } from '../../taupage/user-data.js';
import { validateTaupageConfig } from '../../taupage/validate.js';
import { applyAutoScaling, autoScalingSchema, parseSuccessRequires } from './auto-scaling.js';
import { type Component, type ComponentContext, stackTags } from './component.js';
import { addInstanceProfile } from './iam-roles.js';
import { anyValue, booleanLike, checkProperties, integerLike, numberLike } from './properties.js';
import { resolveReferencesInTree, resolveSecurityGroups } from './references.js';

const stringOrList = z.union([z.string(), z.array(z.string())]);

const schema = z.strictObject({
  InstanceType: z.string({ error: 'required: the EC2 instance type, e.g. t2.micro' }),
  SpotPrice: numberLike.optional(),
  SecurityGroups: z.union([z.string(), z.array(anyValue)]).optional(),
  IamInstanceProfile: anyValue.optional(),
  IamRoles: z.array(anyValue).min(1).optional(),
  Image: z.string().optional(),
  ElasticLoadBalancer: stringOrList.optional(),
  ElasticLoadBalancerV2: stringOrList.optional(),
  HealthCheckType: z.enum(['EC2', 'ELB']).optional(),
  HealthCheckGracePeriod: integerLike.optional(),
  TaupageConfig: z.record(z.string(), anyValue, {
    error: 'required: the Taupage config (runtime, source, …)',
  }),
  AssociatePublicIpAddress: booleanLike.optional(),
  EbsOptimized: booleanLike.optional(),
  BlockDeviceMappings: z
    .array(
      z.looseObject({
        DeviceName: z.string(),
        Ebs: z.looseObject({ VolumeSize: integerLike.optional() }).optional(),
      }),
    )
    .optional(),
  AutoScaling: autoScalingSchema.optional(),
  Tags: z.array(z.strictObject({ Key: z.string(), Value: z.union([z.string(), z.number()]) })).optional(),
  /** `LaunchConfiguration` (default, as the original Senza) or `LaunchTemplate`. */
  LaunchType: z.enum(['LaunchConfiguration', 'LaunchTemplate']).optional(),
  // CloudFormation properties that may be set directly.
  InstanceMonitoring: booleanLike.optional(),
  KeyName: z.string().optional(),
  MetricsCollection: anyValue.optional(),
  TargetGroupARNs: anyValue.optional(),
  TerminationPolicies: z.array(z.string()).optional(),
  PlacementGroup: z.string().optional(),
  MetadataOptions: z.record(z.string(), anyValue).optional(),
});
type Properties = z.infer<typeof schema>;

const bool = (v: unknown) => v === true || v === 'true';

async function topicArn(context: ComponentContext): Promise<string> {
  const topic = context.info.OperatorTopicId!;
  if (topic.startsWith('arn:')) return topic;
  return `arn:aws:sns:${context.region}:${await context.account.get('AccountID')}:${topic}`;
}

/** The launch configuration or template: instance settings shared by every instance of the group. */
async function addLaunchSpecification(
  props: Properties,
  context: ComponentContext,
  userData: unknown,
): Promise<Record<string, unknown>> {
  const { name, template, aws, path } = context;
  const configName = `${name}Config`;
  const imageId = {
    'Fn::FindInMap': ['Images', { Ref: 'AWS::Region' }, props.Image ?? 'LatestTaupageImage'],
  };
  const securityGroups = props.SecurityGroups
    ? await resolveSecurityGroups(props.SecurityGroups, aws, `${path}.SecurityGroups`)
    : undefined;
  let profile: unknown = props.IamInstanceProfile;
  if (props.IamRoles) profile = { Ref: await addInstanceProfile(template, name, props.IamRoles, aws, path) };
  const publicIp = bool(props.AssociatePublicIpAddress);

  if (props.LaunchType === 'LaunchTemplate') {
    const data: Record<string, unknown> = {
      ImageId: imageId,
      InstanceType: props.InstanceType,
      EbsOptimized: bool(props.EbsOptimized),
      MetadataOptions: { HttpTokens: 'optional', ...props.MetadataOptions },
      UserData: { 'Fn::Base64': userData },
    };
    if (profile !== undefined) {
      data.IamInstanceProfile =
        typeof profile === 'object' && profile !== null && 'Ref' in profile
          ? { Arn: { 'Fn::GetAtt': [(profile as { Ref: string }).Ref, 'Arn'] } }
          : { Arn: profile };
    }
    if (publicIp)
      data.NetworkInterfaces = [
        { DeviceIndex: 0, AssociatePublicIpAddress: true, Groups: securityGroups ?? [] },
      ];
    else if (securityGroups) data.SecurityGroupIds = securityGroups;
    if (props.BlockDeviceMappings) data.BlockDeviceMappings = props.BlockDeviceMappings;
    if (props.SpotPrice !== undefined) {
      data.InstanceMarketOptions = { MarketType: 'spot', SpotOptions: { MaxPrice: String(props.SpotPrice) } };
    }
    if (props.KeyName) data.KeyName = props.KeyName;
    if (props.InstanceMonitoring !== undefined) data.Monitoring = { Enabled: bool(props.InstanceMonitoring) };
    template.Resources[configName] = {
      Type: 'AWS::EC2::LaunchTemplate',
      Properties: {
        LaunchTemplateName: `${context.info.StackName}-${context.info.StackVersion}-${name}`,
        LaunchTemplateData: data,
      },
    };
    return {
      LaunchTemplate: {
        LaunchTemplateId: { Ref: configName },
        Version: { 'Fn::GetAtt': [configName, 'LatestVersionNumber'] },
      },
    };
  }

  const lc: Record<string, unknown> = {
    InstanceType: props.InstanceType,
    ImageId: imageId,
    AssociatePublicIpAddress: publicIp,
    EbsOptimized: bool(props.EbsOptimized),
    MetadataOptions: { HttpTokens: 'optional', ...props.MetadataOptions },
    UserData: { 'Fn::Base64': userData },
  };
  if (profile !== undefined) lc.IamInstanceProfile = profile;
  if (securityGroups) lc.SecurityGroups = securityGroups;
  if (props.BlockDeviceMappings) lc.BlockDeviceMappings = props.BlockDeviceMappings;
  if (props.SpotPrice !== undefined) lc.SpotPrice = String(props.SpotPrice);
  if (props.KeyName) lc.KeyName = props.KeyName;
  if (props.InstanceMonitoring !== undefined) lc.InstanceMonitoring = bool(props.InstanceMonitoring);
  template.Resources[configName] = { Type: 'AWS::AutoScaling::LaunchConfiguration', Properties: lc };
  return { LaunchConfigurationName: { Ref: configName } };
}

/**
 * `Senza::TaupageAutoScalingGroup`: an auto scaling group of Taupage instances whose user data
 * is the component's validated `TaupageConfig`.
 */
export const taupageAutoScalingGroup: Component = async (properties, context) => {
  const props = checkProperties(schema, properties, context.path, 'Senza::TaupageAutoScalingGroup');
  const { name, info, template, path } = context;
  if (props.IamRoles && props.IamInstanceProfile !== undefined) {
    throw new InputError(`${path}: use either IamInstanceProfile or IamRoles, not both`);
  }

  const taupage = (await resolveReferencesInTree({ ...props.TaupageConfig }, context.aws)) as Record<
    string,
    unknown
  >;
  taupage.notify_cfn ??= { stack: `${info.StackName}-${info.StackVersion}`, resource: name };
  taupage.application_id ??= info.StackName;
  taupage.application_version ??= info.StackVersion;
  // YAML 1.1 reads `ssh_gateway_ports: yes` as true, and Taupage writes the value into sshd_config
  // as it is: `GatewayPorts True` is not an sshd value. Written as the word sshd knows.
  if (typeof taupage.ssh_gateway_ports === 'boolean')
    taupage.ssh_gateway_ports = taupage.ssh_gateway_ports ? 'yes' : 'no';
  if (!taupage.source) throw new InputError(`${path}.TaupageConfig.source: required (the Docker image)`);
  validateTaupageConfig(taupage, `${path}.TaupageConfig`, (message) => context.warn(message));
  // A wrong tag would otherwise only show when the stack times out waiting for its instances.
  if (typeof taupage.source === 'string') await context.checkImage?.(taupage.source);
  const userData = renderUserData(taupage);

  const launch = await addLaunchSpecification(props, context, userData);
  const [count, timeout] = parseSuccessRequires(
    props.AutoScaling?.SuccessRequires,
    `${path}.AutoScaling.SuccessRequires`,
  );
  const tags = stackTags(info, true);
  for (const tag of props.Tags ?? [])
    tags.push({ Key: tag.Key, PropagateAtLaunch: true, Value: String(tag.Value) });

  const asg: Record<string, unknown> = {
    ...launch,
    VPCZoneIdentifier: { 'Fn::FindInMap': ['ServerSubnets', { Ref: 'AWS::Region' }, 'Subnets'] },
    Tags: tags,
  };
  if (info.OperatorTopicId) {
    asg.NotificationConfiguration = {
      NotificationTypes: [
        'autoscaling:EC2_INSTANCE_LAUNCH',
        'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
        'autoscaling:EC2_INSTANCE_TERMINATE',
        'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
      ],
      TopicARN: await topicArn(context),
    };
  }
  let defaultHealthCheck = 'EC2';
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  if (props.ElasticLoadBalancer) {
    asg.LoadBalancerNames = list(props.ElasticLoadBalancer).map((lb) => ({ Ref: lb }));
    defaultHealthCheck = 'ELB';
  }
  if (props.ElasticLoadBalancerV2) {
    asg.TargetGroupARNs = list(props.ElasticLoadBalancerV2).map((lb) => ({ Ref: `${lb}TargetGroup` }));
    defaultHealthCheck = 'ELB';
  }
  for (const lb of [...list(props.ElasticLoadBalancer ?? []), ...list(props.ElasticLoadBalancerV2 ?? [])]) {
    if (!(lb in template.Resources) && !context.componentNames.includes(lb)) {
      throw new InputError(`${path}: load balancer "${lb}" is not defined in this definition`);
    }
  }
  asg.HealthCheckType = props.HealthCheckType ?? defaultHealthCheck;
  asg.HealthCheckGracePeriod = props.HealthCheckGracePeriod ?? 300;
  if (props.AutoScaling) applyAutoScaling(template, name, asg, props.AutoScaling, path);
  else Object.assign(asg, { MaxSize: 1, MinSize: 1 });
  for (const key of [
    'MetricsCollection',
    'TargetGroupARNs',
    'TerminationPolicies',
    'PlacementGroup',
  ] as const) {
    if (props[key] !== undefined) asg[key] = props[key];
  }
  const [minimum, maximum] = [Number(asg.MinSize), Number(asg.MaxSize)];
  if (minimum > maximum) {
    throw new CliError(`${path}.AutoScaling: Minimum (${minimum}) is greater than Maximum (${maximum})`);
  }
  template.Resources[name] = {
    Type: 'AWS::AutoScaling::AutoScalingGroup',
    // The group is created only when `count` instances signalled (Taupage's notify_cfn) in time.
    CreationPolicy: { ResourceSignal: { Count: count, Timeout: timeout } },
    Properties: asg,
  };
};
