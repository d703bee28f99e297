import { InputError } from '../../platform/errors.js';
import type { Component } from './component.js';
import { configuration } from './configuration.js';
import { elasticLoadBalancer, weightedDnsElasticLoadBalancer } from './elastic-load-balancer.js';
import { elasticLoadBalancerV2, weightedDnsElasticLoadBalancerV2 } from './elastic-load-balancer-v2.js';
import { iamRole } from './iam-role.js';
import { stupsAutoConfiguration } from './stups-auto-configuration.js';
import { taupageAutoScalingGroup } from './taupage-auto-scaling-group.js';

/** Elastigroups are created through Spotinst's API, a third-party service this Senza does not talk to. */
const elastigroup: Component = async (_properties, context) => {
  throw new InputError(
    `${context.path}: Senza::Elastigroup is not supported: it needs the Spotinst API; use Senza::TaupageAutoScalingGroup with SpotPrice`,
  );
};

export const COMPONENTS: Readonly<Record<string, Component>> = {
  'Senza::Configuration': configuration,
  'Senza::StupsAutoConfiguration': stupsAutoConfiguration,
  'Senza::TaupageAutoScalingGroup': taupageAutoScalingGroup,
  'Senza::ElasticLoadBalancer': elasticLoadBalancer,
  'Senza::WeightedDnsElasticLoadBalancer': weightedDnsElasticLoadBalancer,
  'Senza::ElasticLoadBalancerV2': elasticLoadBalancerV2,
  'Senza::WeightedDnsElasticLoadBalancerV2': weightedDnsElasticLoadBalancerV2,
  'Senza::IamRole': iamRole,
  'Senza::Elastigroup': elastigroup,
};

export function componentOf(type: unknown, path: string): Component {
  if (typeof type !== 'string')
    throw new InputError(`${path}.Type: required (e.g. Senza::TaupageAutoScalingGroup)`);
  const component = COMPONENTS[type];
  if (!component) {
    throw new InputError(
      `${path}.Type: Component "${type}" does not exist; known: ${Object.keys(COMPONENTS).join(', ')}`,
    );
  }
  return component;
}
