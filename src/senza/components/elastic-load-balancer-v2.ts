import { z } from 'zod';
import { resolveCertificate } from './certificates.js';
import { type CfResource, type Component, type ComponentContext, stackTags } from './component.js';
import {
  addDomainRecords,
  checkProtocol,
  type Domains,
  loadBalancerBase,
  loadBalancerName,
  schemeOf,
  weightedDomains,
} from './load-balancer-common.js';
import { anyValue, checkProperties } from './properties.js';
import { resolveSecurityGroups } from './references.js';

/** Properties Senza sets on the ALB, target group or listener that a definition may override. */
const OVERRIDABLE = [
  'LoadBalancerAttributes',
  'Subnets',
  'Tags',
  'HealthCheckIntervalSeconds',
  'HealthCheckTimeoutSeconds',
  'HealthyThresholdCount',
  'UnhealthyThresholdCount',
  'Matcher',
  'Port',
  'Protocol',
  'TargetGroupAttributes',
  'IpAddressType',
] as const;

const schema = z.strictObject({
  ...loadBalancerBase,
  LoadBalancerName: z.string().optional(),
  VpcId: z.string().optional(),
  ...Object.fromEntries(OVERRIDABLE.map((p) => [p, anyValue.optional()])),
});

async function applicationLoadBalancer(
  properties: Record<string, unknown>,
  context: ComponentContext,
  type: string,
  weighted: boolean,
): Promise<void> {
  const props = checkProperties(schema, properties, context.path, type) as z.infer<typeof schema> &
    Record<string, unknown>;
  const { name, info, template, aws, path } = context;
  let domains: Domains | undefined = props.Domains;
  if (!domains && weighted) domains = await weightedDomains(context, props.MainDomain, props.VersionDomain);
  const { subdomain, zone } = domains
    ? addDomainRecords(context, domains, 'CanonicalHostedZoneID')
    : { subdomain: '', zone: undefined };

  const targetGroup = `${name}TargetGroup`;
  const protocol = props.HealthCheckProtocol ?? 'HTTP';
  checkProtocol(protocol, ['HTTP', 'HTTPS'], path);
  const scheme = schemeOf(props.Scheme, context);
  const lbName = props.LoadBalancerName
    ? props.LoadBalancerName.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 32)
    : loadBalancerName(
        info.StackName,
        props.NameSuffix ? `${info.StackVersion}-${props.NameSuffix}` : info.StackVersion,
      );
  const tags = stackTags(info);
  const resources: Record<string, CfResource> = {
    [name]: {
      Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      Properties: {
        Name: lbName,
        Scheme: scheme,
        SecurityGroups: await resolveSecurityGroups(props.SecurityGroups, aws, `${path}.SecurityGroups`),
        Subnets: {
          'Fn::FindInMap': [
            scheme === 'internal' ? 'LoadBalancerInternalSubnets' : 'LoadBalancerSubnets',
            { Ref: 'AWS::Region' },
            'Subnets',
          ],
        },
        LoadBalancerAttributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '60' }],
        Tags: tags,
      },
    },
    [targetGroup]: {
      Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
      Properties: {
        Name: lbName,
        HealthCheckIntervalSeconds: '10',
        HealthCheckPath: props.HealthCheckPath ?? '/health',
        HealthCheckPort: props.HealthCheckPort ?? props.HTTPPort,
        HealthCheckProtocol: protocol,
        HealthCheckTimeoutSeconds: '5',
        HealthyThresholdCount: '2',
        Port: props.HTTPPort,
        Protocol: 'HTTP',
        UnhealthyThresholdCount: '2',
        VpcId: props.VpcId ?? (await context.account.get('VpcID')),
        Tags: tags,
        TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '60' }],
      },
    },
  };
  const listeners = (props.Listeners as CfResource[] | undefined) ?? [];
  if (!listeners.length) {
    const given = props.SSLCertificateId;
    const certs = given === undefined ? [undefined] : Array.isArray(given) ? given : given.split(',');
    const arns = [];
    for (const cert of certs)
      arns.push({ CertificateArn: await resolveCertificate(cert?.trim(), subdomain, zone, aws, path) });
    listeners.push({
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: {
        Certificates: arns,
        Protocol: 'HTTPS',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: targetGroup } }],
        LoadBalancerArn: { Ref: name },
        Port: 443,
      },
    });
  }
  listeners.forEach((listener, i) => (resources[`${name}Listener${i ? i + 1 : ''}`] = listener));
  // Settings Senza itself never sets have one owning resource; the rest replace Senza's values.
  const ownerOf: Partial<Record<(typeof OVERRIDABLE)[number], string>> = {
    Matcher: targetGroup,
    IpAddressType: name,
  };
  for (const key of OVERRIDABLE) {
    if (props[key] === undefined) continue;
    const owner = ownerOf[key];
    if (owner) resources[owner]!.Properties![key] = props[key];
    for (const resource of Object.values(resources)) {
      if (resource.Properties && key in resource.Properties) resource.Properties[key] = props[key];
    }
  }
  Object.assign(template.Resources, resources);
}

/** `Senza::ElasticLoadBalancerV2`: an application load balancer with HTTPS listener and target group. */
export const elasticLoadBalancerV2: Component = (properties, context) =>
  applicationLoadBalancer(properties, context, 'Senza::ElasticLoadBalancerV2', false);

/** `Senza::WeightedDnsElasticLoadBalancerV2`: the ALB variant with weighted main and version domains. */
export const weightedDnsElasticLoadBalancerV2: Component = (properties, context) =>
  applicationLoadBalancer(properties, context, 'Senza::WeightedDnsElasticLoadBalancerV2', true);
