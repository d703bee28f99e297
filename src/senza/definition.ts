import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
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

export function parseDefinition(text: string, source: string): Definition {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new InputError(`${source}: invalid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return checkDefinition(data, source);
}

export async function loadDefinition(file: string): Promise<{ definition: Definition; text: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read definition ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return { definition: parseDefinition(text, file), text };
}
