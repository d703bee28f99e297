import type { z } from 'zod';
import { InputError } from '../platform/errors.js';
import { type TaupageConfig, taupageConfigSchema } from './config-schema.js';

// From Kio's API: what an application id and version may look like.
const APPLICATION_ID = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const APPLICATION_VERSION = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

function pathOf(base: string, path: readonly PropertyKey[]): string {
  return [base, ...path.map(String)].join('.');
}

/** One `path: message` line per problem, every problem at once. */
export function describeIssues(base: string, issues: readonly z.core.$ZodIssue[], input?: unknown): string[] {
  const at = (path: readonly PropertyKey[]) =>
    path.reduce<unknown>(
      (node, key) =>
        node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
      input,
    );
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${pathOf(base, [...issue.path, key])}: unknown option`);
    } else if (issue.code === 'invalid_key') {
      // A record key failed its own schema; its message says what a key must look like.
      lines.push(`${pathOf(base, issue.path)}: ${issue.issues[0]?.message ?? 'invalid key'}`);
    } else if (
      (issue.code === 'invalid_type' || issue.code === 'invalid_union') &&
      at(issue.path) === undefined
    ) {
      lines.push(`${pathOf(base, issue.path)}: required`);
    } else {
      lines.push(`${pathOf(base, issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/**
 * Checks a Taupage config against the documented options. Throws an `InputError` whose
 * message lists every problem as `TaupageConfig.path: message`. Options Taupage does not know
 * are reported through `warn` and kept: an AMI newer than this list may know them, and STUPS
 * passed them on unchanged.
 */
export function validateTaupageConfig(
  config: unknown,
  base = 'TaupageConfig',
  warn: (message: string) => void = () => {},
): TaupageConfig {
  const result = taupageConfigSchema.safeParse(config);
  const issues = result.success ? [] : result.error.issues;
  const unknown = issues.filter((issue) => issue.code === 'unrecognized_keys');
  for (const line of describeIssues(base, unknown, config)) warn(`${line}: passed to Taupage unchanged`);
  const problems = describeIssues(
    base,
    issues.filter((issue) => issue.code !== 'unrecognized_keys'),
    config,
  );
  // Checked next to the schema's problems, so one run reports everything.
  const { application_id: id, application_version: version } = (config ?? {}) as Record<string, unknown>;
  if (typeof id === 'string' && !APPLICATION_ID.test(id))
    problems.push(`${base}.application_id: must match ${APPLICATION_ID.source}`);
  if (typeof version === 'string' && !APPLICATION_VERSION.test(version))
    problems.push(`${base}.application_version: must match ${APPLICATION_VERSION.source}`);
  if (problems.length) {
    throw new InputError(problems.join('\n'), { code: 'TAUPAGE_CONFIG_INVALID', details: { problems } });
  }
  return (result.success ? result.data : config) as TaupageConfig;
}
