/**
 * The resource types Senza emits and their required properties, hand-copied from the AWS
 * CloudFormation resource specification (CloudFormationResourceSpecification.json, the
 * `"Required": true` properties of each `ResourceTypes` entry; the same facts are in the
 * CloudFormation User Guide's resource type reference). Golden tests check every emitted
 * resource against it.
 */
export const REQUIRED_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::AutoScaling::AutoScalingGroup': ['MaxSize', 'MinSize'],
  'AWS::AutoScaling::LaunchConfiguration': ['ImageId', 'InstanceType'],
  'AWS::AutoScaling::ScalingPolicy': ['AutoScalingGroupName'],
  'AWS::CloudWatch::Alarm': ['ComparisonOperator', 'EvaluationPeriods'],
  'AWS::EC2::LaunchTemplate': ['LaunchTemplateData'],
  'AWS::ElasticLoadBalancing::LoadBalancer': ['Listeners'],
  'AWS::ElasticLoadBalancingV2::Listener': ['DefaultActions', 'LoadBalancerArn'],
  'AWS::ElasticLoadBalancingV2::LoadBalancer': [],
  'AWS::ElasticLoadBalancingV2::TargetGroup': [],
  'AWS::IAM::InstanceProfile': ['Roles'],
  'AWS::IAM::Role': ['AssumeRolePolicyDocument'],
  'AWS::Route53::RecordSet': ['Name', 'Type'],
  'AWS::SQS::Queue': [],
  'AWS::S3::Bucket': [],
};

/** Problems of a template: unknown resource types, missing required properties, dangling Refs. */
export function checkTemplate(template: {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Parameters?: Record<string, unknown>;
  Mappings?: Record<string, unknown>;
}): string[] {
  const problems: string[] = [];
  const resources = template.Resources ?? {};
  for (const [id, r] of Object.entries(resources)) {
    const required = REQUIRED_PROPERTIES[r.Type];
    if (!required) problems.push(`${id}: resource type ${r.Type} is not in the spec table`);
    for (const p of required ?? [])
      if (r.Properties?.[p] === undefined) problems.push(`${id}: ${r.Type} requires ${p}`);
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
