import type { z } from 'zod';
import { envVariableFor } from './env-overrides.js';
import { settingLeaves, typeName } from './schema-walk.js';

/** The value at `path` of a parsed object, for showing defaults. */
function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
  return current;
}

function showDefault(value: unknown, required: boolean, isSecret: boolean): string {
  if (value === undefined) return required ? '**required**' : '—';
  if (isSecret) return '(secret)';
  return '`' + JSON.stringify(value).replace(/\|/g, '\\|') + '`';
}

/**
 * Markdown listing every setting of every section with its type, default, environment
 * variable and description; `docs/configuration.md` is this text (a test keeps them equal).
 */
export function renderSettingsDocs(
  sections: ReadonlyArray<{ name: string; schema: z.ZodType; intro?: string }>,
  preamble: string,
): string {
  const out: string[] = [preamble.trimEnd(), ''];
  for (const section of sections) {
    out.push(`## \`${section.name}\``, '');
    if (section.intro) out.push(section.intro, '');
    const parsed = section.schema.safeParse({});
    const defaults = parsed.success ? parsed.data : undefined;
    const leaves = settingLeaves(section.schema);
    if (leaves.length === 0) {
      out.push('No settings.', '');
      continue;
    }
    out.push('| setting | type | default | environment | description |', '|---|---|---|---|---|');
    for (const leaf of leaves) {
      const description = (leaf.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
      out.push(
        `| \`${leaf.path.join('.')}\` | ${typeName(leaf.schema)} | ${showDefault(at(defaults, leaf.path), leaf.required, leaf.secret)} | \`${envVariableFor(section.name, leaf.path)}\` | ${description} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
