import { z } from 'zod';

/** Settings whose values `stups config print` and logs must never show. */
export const secretSettings = z.registry<{ secret: true }>();

/** Marks a setting as secret: redacted wherever the settings tree is shown. */
export function secret<T extends z.ZodType>(schema: T): T {
  secretSettings.add(schema, { secret: true });
  return schema;
}

/** One setting at the end of a path through nested objects. */
export interface SettingLeaf {
  path: string[];
  /** The innermost schema (optional/default wrappers removed). */
  schema: z.ZodType;
  description: string | undefined;
  secret: boolean;
  /** Whether a value must be given (no default, not optional). */
  required: boolean;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch']);

interface Unwrapped {
  schema: z.ZodType;
  description: string | undefined;
  secret: boolean;
  required: boolean;
}

/** Removes optional/default wrappers, keeping the outermost description and any secret mark. */
export function unwrap(schema: z.ZodType): Unwrapped {
  let current = schema;
  let description = current.description;
  let isSecret = secretSettings.has(current);
  let required = true;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType };
    if (!WRAPPERS.has(def.type) || !def.innerType) break;
    if (def.type !== 'nullable') required = false;
    current = def.innerType;
    description ??= current.description;
    isSecret ||= secretSettings.has(current);
  }
  return { schema: current, description, secret: isSecret, required };
}

/** The fields of an object schema (after unwrapping), or undefined for anything else. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = unwrap(schema).schema._zod.def as { type: string; shape?: Record<string, z.ZodType> };
  return def.type === 'object' ? def.shape : undefined;
}

/** Every leaf setting of a schema, depth first in declaration order. */
export function settingLeaves(schema: z.ZodType, prefix: string[] = []): SettingLeaf[] {
  const shape = objectShape(schema);
  if (!shape) {
    const u = unwrap(schema);
    return [{ path: prefix, ...u }];
  }
  return Object.entries(shape).flatMap(([key, field]) => {
    const u = unwrap(field);
    if (objectShape(field)) return settingLeaves(field, [...prefix, key]);
    return [{ path: [...prefix, key], ...u }];
  });
}

/** A short type name for documentation: `string`, `integer`, `boolean`, `list of string`, `one of a, b`. */
export function typeName(schema: z.ZodType): string {
  const inner = unwrap(schema).schema;
  const def = inner._zod.def as {
    type: string;
    element?: z.ZodType;
    entries?: Record<string, string>;
    valueType?: z.ZodType;
    checks?: Array<{ _zod: { def: { check: string; format?: string } } }>;
  };
  switch (def.type) {
    case 'array':
      return `list of ${def.element ? typeName(def.element) : 'values'}`;
    case 'enum':
      return `one of ${Object.values(def.entries ?? {}).join(', ')}`;
    case 'record':
      return `map of ${def.valueType ? typeName(def.valueType) : 'values'}`;
    case 'number': {
      const isInt = (def.checks ?? []).some((c) => c._zod.def.format === 'safeint');
      return isInt ? 'integer' : 'number';
    }
    case 'object':
      return 'object';
    default: {
      const format = (inner._zod.def as { format?: string }).format;
      return format === 'url' ? 'URL' : def.type;
    }
  }
}
