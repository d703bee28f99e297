import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { CliError } from '../platform/cli/cli-error.js';
import { type Definition, namedValue } from './definition.js';
import { renderString } from './templating.js';

/** The values of a definition's parameters, by name, in definition order. */
export type Arguments = Record<string, string>;

/**
 * Reads a `--parameter-file` (a YAML map of name → value) as `Name=value` strings, so file and
 * command-line parameters go through the same rules.
 */
export async function readParameterFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliError(`Can't read parameter file "${file}"`, 2);
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new CliError(
      `Parameter file "${file}" is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      2,
    );
  }
  if (data === null || data === undefined) throw new CliError(`Parameter file "${file}" is empty`, 2);
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new CliError(`Parameter file "${file}" must be a map of parameter names to values`, 2);
  }
  return Object.entries(data).map(([k, v]) => `${k}=${parameterText(v)}`);
}

/** A YAML value as a parameter's text: scalars as written, lists and maps as JSON. */
function parameterText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  // null, lists and maps (YAML has no other values).
  return JSON.stringify(value);
}

/**
 * Assigns command-line parameters to the definition's `SenzaInfo.Parameters`, as documented:
 * positional ones first, then `Name=value` ones (split on the first `=`) in any order, then
 * defaults (which may use `{{AccountInfo.*}}`). Errors are usage errors (exit code 2).
 */
export function parseArguments(
  definition: Definition,
  given: readonly string[],
  accountInfo: Record<string, unknown> = {},
): Arguments {
  const declared = (definition.SenzaInfo.Parameters ?? []).map((p, i) =>
    namedValue(p, `SenzaInfo.Parameters[${i}]`),
  );
  const names = declared.map(([name]) => name);
  const values = new Map<string, string>();
  let seenKeyword = false;
  given.forEach((param, i) => {
    const eq = param.indexOf('=');
    if (eq > 0 && /^[A-Za-z][A-Za-z0-9]*$/.test(param.slice(0, eq))) {
      seenKeyword = true;
      const key = param.slice(0, eq);
      if (!names.includes(key)) throw new CliError(`Unrecognized keyword parameter: "${key}"`, 2);
      if (values.has(key)) throw new CliError(`Parameter specified multiple times: "${key}"`, 2);
      values.set(key, param.slice(eq + 1));
      return;
    }
    if (seenKeyword) throw new CliError('Positional parameters must not follow keywords.', 2);
    if (i >= names.length)
      throw new CliError(`Too many parameters given. Need only: "${names.join(' ')}"`, 2);
    values.set(names[i]!, param);
  });
  const args: Arguments = {};
  for (const [name, config] of declared) {
    let value = values.get(name);
    if (value === undefined && config.Default !== undefined && config.Default !== null) {
      value = renderString(parameterText(config.Default), { AccountInfo: accountInfo });
    }
    if (value === undefined) throw new CliError(`Missing parameter "${name}". Need: "${names.join(' ')}"`, 2);
    args[name] = value;
  }
  return args;
}
