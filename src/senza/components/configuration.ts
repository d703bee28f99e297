import { z } from 'zod';
import { namedValue } from '../definition.js';
import { type Component, type ComponentContext, mapping } from './component.js';
import { booleanLike, checkProperties } from './properties.js';

const regionMap = z.record(z.string(), z.array(z.string()));

export const configurationProperties = {
  ServerSubnets: regionMap.optional(),
  LoadBalancerSubnets: regionMap.optional(),
  LoadBalancerInternalSubnets: regionMap.optional(),
  /** Image name → region → AMI id, e.g. `MyImage: {eu-west-1: ami-123}`. */
  Images: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  /** Declare SenzaInfo.Parameters as CloudFormation parameters (default true). */
  DefineParameters: booleanLike.optional(),
};

export type ConfigurationProperties = {
  ServerSubnets?: Record<string, string[]>;
  LoadBalancerSubnets?: Record<string, string[]>;
  LoadBalancerInternalSubnets?: Record<string, string[]>;
  Images?: Record<string, Record<string, string>>;
  DefineParameters?: boolean;
};

/** Applies network mappings, images and parameters: shared by both configuration components. */
export function applyConfiguration(config: ConfigurationProperties, context: ComponentContext): void {
  const { template, info } = context;
  if (info.Parameters && String(config.DefineParameters ?? true) !== 'false') {
    template.Parameters ??= {};
    for (const [i, parameter] of info.Parameters.entries()) {
      // `- Name:` without properties is a parameter too; namedValue reads it as an empty map.
      const [name, value] = namedValue(parameter, `SenzaInfo.Parameters[${i}]`);
      template.Parameters[name] = { Type: 'String', ...value };
    }
  }
  for (const section of ['ServerSubnets', 'LoadBalancerSubnets', 'LoadBalancerInternalSubnets'] as const) {
    for (const [region, subnets] of Object.entries(config[section] ?? {})) {
      mapping(template, section)[region] = { Subnets: subnets };
    }
  }
  for (const [name, regions] of Object.entries(config.Images ?? {})) {
    for (const [region, ami] of Object.entries(regions)) {
      const images = mapping(template, 'Images');
      images[region] = { ...(images[region] ?? {}), [name]: ami };
    }
  }
}

/** `Senza::Configuration`: explicit subnets and images for accounts without the STUPS conventions. */
export const configuration: Component = async (properties, context) => {
  const config: ConfigurationProperties = checkProperties(
    z.strictObject(configurationProperties),
    properties,
    context.path,
    'Senza::Configuration',
  );
  applyConfiguration(config, context);
};
