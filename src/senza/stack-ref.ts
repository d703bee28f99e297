import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { CliError } from '../platform/cli/cli-error.js';

/** A stack name and optional version, both regular expressions matched against whole strings. */
export interface StackRef {
  name: string;
  version?: string;
}

/** `name-version` → [name, version]; CloudFormation stack names of Senza are `<StackName>-<version>`. */
export function splitStackName(stackName: string): [string, string] {
  const dash = stackName.lastIndexOf('-');
  return dash < 0 ? [stackName, ''] : [stackName.slice(0, dash), stackName.slice(dash + 1)];
}

function fullMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return pattern === value;
  }
}

export function matchesRef(ref: StackRef, stackName: string): boolean {
  const [name, version] = splitStackName(stackName);
  return fullMatch(ref.name, name) && (!ref.version || fullMatch(ref.version, version));
}

export function matchesAny(refs: readonly StackRef[], stackName: string): boolean {
  return !refs.length || refs.some((r) => matchesRef(r, stackName));
}

/** The stack name of a definition file, or undefined when `ref` is not a readable file. */
function stackNameFromFile(ref: string, cwd: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, ref), 'utf8');
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new CliError(`${ref}: invalid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const name = (data as { SenzaInfo?: { StackName?: unknown } } | null)?.SenzaInfo?.StackName;
  if (typeof name !== 'string') throw new CliError(`${ref}: SenzaInfo.StackName is missing or invalid`);
  return name;
}

/**
 * STACK_REF arguments: `[definition.yaml|name-regex] [version-regex] …`. A file reference is
 * replaced by its `SenzaInfo.StackName`; an argument that looks like a version (`v2`) after a
 * name starts a second reference to the same name.
 */
export function parseStackRefs(args: readonly string[], cwd: string): StackRef[] {
  const refs: StackRef[] = [];
  const rest = [...args];
  let lastName: string | undefined;
  while (rest.length) {
    const arg = rest.shift()!;
    if (lastName !== undefined && /^v[0-9][a-zA-Z0-9-]*$/.test(arg)) {
      refs.push({ name: lastName, version: arg });
      continue;
    }
    const name = stackNameFromFile(arg, cwd) ?? arg;
    const version = rest.shift();
    refs.push(version === undefined ? { name } : { name, version });
    lastName = name;
  }
  return refs;
}
