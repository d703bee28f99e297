import { z } from 'zod';
import { ConfigFileSchema, SUPPORTED_CONFIG_VERSION } from './contract.js';

/**
 * The JSON Schema editors validate configuration files with (docs/sevenseconds.schema.json),
 * generated from the same Zod schema the tool parses with so the two never drift. The input side
 * is described: defaults make keys optional for the author, not required.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigFileSchema.extend({ version: z.literal(SUPPORTED_CONFIG_VERSION) }), {
    io: 'input',
    target: 'draft-2020-12',
    reused: 'ref',
  });
  return {
    ...schema,
    $id: 'https://stups.example.org/schemas/sevenseconds.schema.json',
    title: 'Seven Seconds configuration',
  };
}

export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
