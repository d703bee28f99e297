import { readFile } from 'node:fs/promises';
import { isMap as isYamlMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { InputError } from '../platform/errors.js';

/** A Senza definition as read from YAML: `SenzaInfo`, `SenzaComponents` and plain CloudFormation. */
export interface Definition {
  SenzaInfo: SenzaInfo;
  SenzaComponents?: Record<string, Record<string, unknown>>[];
  [section: string]: unknown;
}

export interface SenzaParameter {
  Description?: string;
  Default?: unknown;
  [cloudFormationProperty: string]: unknown;
}

export interface SenzaInfo {
  StackName: string;
  StackVersion?: string;
  Parameters?: Record<string, SenzaParameter>[];
  OperatorTopicId?: string;
  Tags?: Record<string, unknown> | Record<string, unknown>[];
  [key: string]: unknown;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Name and body of a one-key list item (`- Name: {…}`), the shape of components and parameters. */
export function namedValue(item: unknown, path: string): [string, Record<string, unknown>] {
  if (!isMap(item) || Object.keys(item).length !== 1) {
    throw new InputError(`${path}: expected a map with exactly one key (the name)`);
  }
  const [name, value] = Object.entries(item)[0]!;
  if (value !== null && value !== undefined && !isMap(value))
    throw new InputError(`${path}.${name}: expected a map`);
  return [name, value ?? {}];
}

/** Checks the shape Senza relies on; every problem names its YAML path. */
export function checkDefinition(data: unknown, source: string): Definition {
  if (!isMap(data)) throw new InputError(`${source}: a Senza definition must be a YAML map`);
  const info = data.SenzaInfo;
  if (!isMap(info)) throw new InputError(`${source}: SenzaInfo: required (a map with at least StackName)`);
  if (typeof info.StackName !== 'string' || !info.StackName) {
    throw new InputError(`${source}: SenzaInfo.StackName: required`);
  }
  if (!/^[a-zA-Z][a-zA-Z0-9-]*$/.test(info.StackName) && !info.StackName.includes('{{')) {
    throw new InputError(
      `${source}: SenzaInfo.StackName: letters, digits and dashes, starting with a letter`,
    );
  }
  if (info.Parameters !== undefined) {
    if (!Array.isArray(info.Parameters))
      throw new InputError(`${source}: SenzaInfo.Parameters: expected a list`);
    info.Parameters.forEach((p, i) => namedValue(p, `${source}: SenzaInfo.Parameters[${i}]`));
  }
  if (data.SenzaComponents !== undefined && data.SenzaComponents !== null) {
    if (!Array.isArray(data.SenzaComponents))
      throw new InputError(`${source}: SenzaComponents: expected a list`);
    data.SenzaComponents.forEach((c, i) => namedValue(c, `${source}: SenzaComponents[${i}]`));
  }
  return data as Definition;
}

/**
 * How STUPS read definitions: PyYAML, i.e. YAML 1.1 (`yes`/`no`/`on`/`off` are booleans, merge
 * keys work) with duplicate keys allowed, the last one winning. Dates stay text: they have no
 * JSON form for the template.
 */
const DEFINITION_YAML = {
  version: '1.1',
  uniqueKeys: false,
  customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
} as const satisfies Parameters<typeof parseDocument>[1];

/**
 * Reads a definition. `warnings` gets one line per duplicate key (the original accepted them
 * silently; the last one still wins). An unquoted `{{…}}` is refused with what to write instead:
 * YAML reads it as a map inside a map, which no Senza property can mean.
 */
export function parseDefinition(text: string, source: string, warnings: string[] = []): Definition {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...DEFINITION_YAML, lineCounter });
  const lineOf = (offset: number | undefined) => lineCounter.linePos(offset ?? 0).line;
  if (doc.errors.length) {
    throw new InputError(`${source}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const problems: string[] = [];
  visit(doc, {
    Map(_key, map) {
      const start = map.range?.[0];
      if (map.flow && start !== undefined && text.startsWith('{{', start)) {
        const written = text.slice(start, map.range![1]).trim();
        problems.push(
          `${source}:${lineOf(start)}: ${written} is read by YAML as a map; quote the value: "${written}"`,
        );
        return visit.SKIP;
      }
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) && !isYamlMap(pair.key)) continue;
        const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const line = lineOf(pair.key.range?.[0]);
        const first = seen.get(name);
        if (first !== undefined) {
          warnings.push(
            `${source}:${line}: duplicate key "${name}" (first on line ${first}); the last one is used`,
          );
        } else seen.set(name, line);
      }
      return undefined;
    },
  });
  if (problems.length) throw new InputError(problems.join('\n'), { details: { problems } });
  return checkDefinition(doc.toJS({ maxAliasCount: -1 }), source);
}

export async function loadDefinition(
  file: string,
): Promise<{ definition: Definition; text: string; warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    throw new InputError(
      `cannot read definition ${file}: ${typeof code === 'string' ? code : String(error)}`,
    );
  }
  const warnings: string[] = [];
  return { definition: parseDefinition(text, file, warnings), text, warnings };
}
