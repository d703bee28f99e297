import { z } from 'zod';
import { resolveCertificate } from './certificates.js';
import { type Component, type ComponentContext, stackTags } from './component.js';
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

/** CloudFormation properties of AWS::ElasticLoadBalancing::LoadBalancer a definition may override. */
const CF_PROPERTIES = [
  'AccessLoggingPolicy',
  'AppCookieStickinessPolicy',
  'AvailabilityZones',
  'ConnectionDrainingPolicy',
  'ConnectionSettings',
  'CrossZone',
  'HealthCheck',
  'Instances',
  'LBCookieStickinessPolicy',
  'LoadBalancerName',
  'Policies',
  'Subnets',
  'Tags',
] as const;

const schema = z.strictObject({
  ...loadBalancerBase,
  ...Object.fromEntries(CF_PROPERTIES.map((p) => [p, anyValue.optional()])),
});

async function classicLoadBalancer(
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
    ? addDomainRecords(context, domains, 'CanonicalHostedZoneNameID')
    : { subdomain: '', zone: undefined };

  const listeners = (props.Listeners as Record<string, unknown>[] | undefined) ?? [
    {
      PolicyNames: [],
      SSLCertificateId: props.SSLCertificateId,
      Protocol: 'HTTPS',
      InstancePort: props.HTTPPort,
      LoadBalancerPort: 443,
    },
  ];
  for (const listener of listeners) {
    if (listener.Protocol === 'HTTPS' || listener.Protocol === 'SSL') {
      const given = listener.SSLCertificateId as string | string[] | undefined;
      listener.SSLCertificateId = await resolveCertificate(
        Array.isArray(given) ? given[0] : given,
        subdomain,
        zone,
        aws,
        path,
      );
    }
  }
  const protocol = props.HealthCheckProtocol ?? 'HTTP';
  checkProtocol(protocol, ['HTTP', 'HTTPS', 'TCP', 'UDP', 'SSL'], path);
  const healthPath = protocol === 'HTTP' || protocol === 'HTTPS' ? (props.HealthCheckPath ?? '/health') : '';
  const scheme = schemeOf(props.Scheme, context);
  const lbProperties: Record<string, unknown> = {
    Scheme: scheme,
    Subnets: {
      'Fn::FindInMap': [
        scheme === 'internal' ? 'LoadBalancerInternalSubnets' : 'LoadBalancerSubnets',
        { Ref: 'AWS::Region' },
        'Subnets',
      ],
    },
    HealthCheck: {
      HealthyThreshold: '2',
      UnhealthyThreshold: '2',
      Interval: '10',
      Timeout: '5',
      Target: `${protocol}:${props.HealthCheckPort ?? props.HTTPPort}${healthPath}`,
    },
    Listeners: listeners,
    ConnectionDrainingPolicy: { Enabled: true, Timeout: 60 },
    CrossZone: 'true',
    LoadBalancerName: loadBalancerName(
      info.StackName,
      props.NameSuffix ? `${info.StackVersion}-${props.NameSuffix}` : info.StackVersion,
    ),
    SecurityGroups: await resolveSecurityGroups(props.SecurityGroups, aws, `${path}.SecurityGroups`),
    Tags: stackTags(info),
  };
  for (const key of CF_PROPERTIES) if (props[key] !== undefined) lbProperties[key] = props[key];
  template.Resources[name] = { Type: 'AWS::ElasticLoadBalancing::LoadBalancer', Properties: lbProperties };
}

/** `Senza::ElasticLoadBalancer`: an HTTPS classic ELB, with the `Domains` it is given. */
export const elasticLoadBalancer: Component = (properties, context) =>
  classicLoadBalancer(properties, context, 'Senza::ElasticLoadBalancer', false);

/**
 * `Senza::WeightedDnsElasticLoadBalancer`: an HTTPS classic ELB (internal unless `Scheme:
 * internet-facing`) with a weighted main domain and a version domain.
 */
export const weightedDnsElasticLoadBalancer: Component = (properties, context) =>
  classicLoadBalancer(properties, context, 'Senza::WeightedDnsElasticLoadBalancer', true);
