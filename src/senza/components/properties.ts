import { z } from 'zod';
import { InputError } from '../../platform/errors.js';
import { describeIssues } from '../../taupage/validate.js';

/** Any JSON a CloudFormation property override may hold. */
export const anyValue = z.unknown();

/** `{Ref: …}` / `{"Fn::…": …}`. */
export const cfnFunction = z.custom<Record<string, unknown>>((v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}, 'expected a CloudFormation function');

/** `{Stack: base-1, LogicalId: AppSecurityGroup}` or `{Stack: db-2, Output: DatabaseHost}`. */
export const stackReference = z.union([
  z.strictObject({ Stack: z.string(), LogicalId: z.string() }),
  z.strictObject({ Stack: z.string(), Output: z.string() }),
]);

export const numberLike = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a number')], {
  error: 'expected a number',
});
export const integerLike = z.union(
  [z.number().int(), z.string().regex(/^-?\d+$/, 'expected a whole number')],
  {
    error: 'expected a whole number',
  },
);
/**
 * STUPS read definitions with PyYAML (YAML 1.1), where `yes`, `no`, `on` and `off` are booleans;
 * the same words are accepted when they arrive as text (e.g. from a `{{Arguments.…}}` value).
 */
const YAML_1_1_BOOLEAN = /^(?:true|false|yes|no|on|off)$/i;
export const booleanLike = z
  .union([z.boolean(), z.string().regex(YAML_1_1_BOOLEAN)], {
    error: 'expected true or false',
  })
  .transform((v) => v === true || (typeof v === 'string' && /^(?:true|yes|on)$/i.test(v)));

/**
 * Checks a component's properties against its schema; throws one `InputError` listing every
 * problem as `SenzaComponents[i].Name.Property: message`.
 */
export function checkProperties<T extends z.ZodType>(
  schema: T,
  properties: Record<string, unknown>,
  path: string,
  type: string,
): z.infer<T> {
  const { Type: _type, ...rest } = properties;
  const result = schema.safeParse(rest);
  if (result.success) return result.data;
  const lines = describeIssues(path, result.error.issues, rest).map((line) =>
    line.endsWith(': unknown option')
      ? line.replace(/: unknown option$/, `: unknown property of ${type}`)
      : line,
  );
  throw new InputError(lines.join('\n'), { code: 'COMPONENT_INVALID', details: { problems: lines } });
}
