import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { objectShape, unwrap } from './schema-walk.js';

/** `accessTokenLifetimeSeconds` → `ACCESS_TOKEN_LIFETIME_SECONDS`, `token-service` → `TOKEN_SERVICE`. */
export function envSegment(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase();
}

/** The generic variable for a setting: `STUPS_<SECTION>__<SETTING>[__<NESTED>]`. */
export function envVariableFor(section: string, path: readonly string[]): string {
  return ['STUPS_' + envSegment(section), ...path.map(envSegment)].join('__');
}

/**
 * A value from the environment, typed by its setting: strings stay as written; numbers,
 * booleans and lists are read as YAML (`600`, `true`, `[a, b]`); a list may also be comma-separated.
 */
function readValue(schema: z.ZodType, raw: string): unknown {
  const type = (unwrap(schema).schema._zod.def as { type: string }).type;
  if (type === 'string' || type === 'enum') return raw;
  if (type === 'array' && !raw.trimStart().startsWith('[')) {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }
  try {
    return parseYaml(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Settings from `STUPS_<SECTION>__<SETTING>` variables, as a partial tree. Variables naming no
 * setting are reported as problems rather than ignored: a typo must not pass silently.
 */
export function settingsFromEnv(
  sections: ReadonlyArray<{ name: string; schema: z.ZodType }>,
  env: Readonly<Record<string, string | undefined>>,
): { tree: Record<string, Record<string, unknown>>; problems: string[] } {
  const tree: Record<string, Record<string, unknown>> = {};
  const problems: string[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith('STUPS_') || !variable.includes('__') || raw === undefined) continue;
    const [head = '', ...segments] = variable.split('__');
    const section = sections.find((s) => 'STUPS_' + envSegment(s.name) === head);
    if (!section || segments.length === 0) {
      problems.push(`${variable}: no such setting (sections: ${sections.map((s) => s.name).join(', ')})`);
      continue;
    }
    let schema: z.ZodType = section.schema;
    const path: string[] = [];
    for (const segment of segments) {
      const shape = objectShape(schema);
      const key = shape && Object.keys(shape).find((k) => envSegment(k) === segment);
      if (!shape || key === undefined) break;
      path.push(key);
      schema = shape[key] as z.ZodType;
    }
    if (path.length !== segments.length) {
      problems.push(`${variable}: ${section.name} has no setting ${segments.join('__').toLowerCase()}`);
      continue;
    }
    let node: Record<string, unknown> = (tree[section.name] ??= {});
    for (const key of path.slice(0, -1)) {
      node = (node[key] ??= {}) as Record<string, unknown>;
    }
    node[path.at(-1) as string] = readValue(schema, raw);
  }
  return { tree, problems };
}
