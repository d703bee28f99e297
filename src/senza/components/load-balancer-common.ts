import { z } from 'zod';
import { InputError } from '../../platform/errors.js';
import type { ComponentContext } from './component.js';
import { anyValue, integerLike } from './properties.js';

/** Domain entries of a load balancer: `weighted` (main domain, traffic by weight) or `standalone`. */
export const domainsSchema = z.record(
  z.string(),
  z.strictObject({ Type: z.enum(['weighted', 'standalone']), Zone: z.string(), Subdomain: z.string() }),
);
export type Domains = z.infer<typeof domainsSchema>;

export const loadBalancerBase = {
  HTTPPort: integerLike,
  HealthCheckPath: z.string().optional(),
  HealthCheckPort: integerLike.optional(),
  HealthCheckProtocol: z.string().optional(),
  SecurityGroups: z.union([z.string(), z.array(anyValue)]),
  SSLCertificateId: z.union([z.string(), z.array(z.string())]).optional(),
  Scheme: z
    .enum(['internal', 'internet-facing'], { error: 'expected internal or internet-facing' })
    .optional(),
  Domains: domainsSchema.optional(),
  MainDomain: z.string().optional(),
  VersionDomain: z.string().optional(),
  NameSuffix: z.string().optional(),
  Listeners: z.array(anyValue).optional(),
};

/** A name ELB accepts: at most 32 characters of letters, digits and dashes, not ending with a dash. */
export function loadBalancerName(stackName: string, version: string): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9-]/g, '-');
  const suffix = `-${clean(version)}`;
  const name = `${clean(stackName).slice(0, 32 - suffix.length)}${suffix}`.slice(0, 32);
  return name.replace(/-+$/, '');
}

/**
 * Route53 records for the load balancer: one alias record per domain; the weighted one carries
 * the stack's identifier and weight 0 (traffic is shifted with `senza traffic`).
 */
export function addDomainRecords(
  context: ComponentContext,
  domains: Domains,
  hostedZoneAttribute: string,
): { subdomain: string; zone: string | undefined } {
  const { name, info, template } = context;
  let subdomain = '';
  let zone: string | undefined;
  for (const [key, domain] of Object.entries(domains)) {
    const zoneName = `${domain.Zone.replace(/\.$/, '')}.`;
    const properties: Record<string, unknown> = {
      Type: 'A',
      Name: `${domain.Subdomain}.${zoneName}`,
      HostedZoneName: zoneName,
      AliasTarget: {
        HostedZoneId: { 'Fn::GetAtt': [name, hostedZoneAttribute] },
        DNSName: { 'Fn::GetAtt': [name, 'DNSName'] },
      },
    };
    if (domain.Type === 'weighted') {
      properties.Weight = 0;
      properties.SetIdentifier = `${info.StackName}-${info.StackVersion}`;
      subdomain = domain.Subdomain;
      zone = zoneName;
    }
    template.Resources[`${name}${key}`] = { Type: 'AWS::Route53::RecordSet', Properties: properties };
  }
  return { subdomain, zone };
}

/** Main and version domain from `MainDomain`/`VersionDomain` or the account's hosted zone. */
export async function weightedDomains(
  context: ComponentContext,
  mainDomain: string | undefined,
  versionDomain: string | undefined,
): Promise<Domains> {
  const { info, account } = context;
  const [mainSub, mainZone] = mainDomain
    ? await account.splitDomain(mainDomain)
    : [info.StackName, await account.get('Domain')];
  const [versionSub, versionZone] = versionDomain
    ? await account.splitDomain(versionDomain)
    : [`${info.StackName}-${info.StackVersion}`, await account.get('Domain')];
  return {
    MainDomain: { Type: 'weighted', Zone: `${mainZone}.`, Subdomain: mainSub },
    VersionDomain: { Type: 'standalone', Zone: `${versionZone}.`, Subdomain: versionSub },
  };
}

export function schemeOf(
  scheme: string | undefined,
  context: ComponentContext,
): 'internal' | 'internet-facing' {
  const value = scheme ?? 'internal';
  if (value === 'internet-facing') {
    context.warn(
      `${context.path}: You are deploying an internet-facing ELB that will be publicly accessible! You should have OAUTH2 and HTTPS in place!`,
    );
  }
  return value as 'internal' | 'internet-facing';
}

export function checkProtocol(protocol: string, allowed: readonly string[], path: string): void {
  if (!allowed.includes(protocol)) {
    throw new InputError(
      `${path}.HealthCheckProtocol: Protocol "${protocol}" is not supported (${allowed.join(', ')})`,
    );
  }
}
