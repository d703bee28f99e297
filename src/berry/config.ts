import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { StupsError } from '../platform/errors.js';
import type { StaticCredentials } from './aws/s3-bucket.js';

/** A usage problem: berry says it in one line and exits 1, as the original does. */
export class BerryUsageError extends StupsError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The Taupage keys berry reads; everything else in the file (`region:`, `runtime:` …) is ignored. */
const BerryYamlSchema = z.looseObject({
  application_id: z.string().min(1).optional(),
  mint_bucket: z.string().min(1).optional(),
});
export type BerryYaml = z.output<typeof BerryYamlSchema>;

/**
 * Reads `application_id` and `mint_bucket` from the Taupage YAML (or a `berry.yaml`). Like the
 * original, a missing or unreadable file only warns: the flags may give both values.
 */
export async function readBerryYaml(file: string, warn: (message: string) => void): Promise<BerryYaml> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    warn(`Could not load configuration from ${file}: ${code}`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    warn(
      `Could not load configuration from ${file}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
    );
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  const result = BerryYamlSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    warn(
      `Could not load configuration from ${file}: ${issue ? `${issue.path.join('.') || 'document'}: ${issue.message}` : 'not a mapping'}`,
    );
    return {};
  }
  return result.data;
}

/**
 * The `-c` file: lines `<application_id>:<access_key_id>:<secret_access_key>`, `#` comments. Read
 * before every download, so that keys rolled out centrally are picked up without a restart.
 */
export async function readAwsCredentialsFile(
  file: string,
  applicationId: string,
): Promise<StaticCredentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new BerryUsageError(`Could not read AWS credentials file ${file}: ${code}`);
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [app, accessKeyId, ...rest] = line.split(':');
    const secretAccessKey = rest.join(':');
    if (app === applicationId && accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  }
  throw new BerryUsageError(`No AWS credentials found for application "${applicationId}" in ${file}`);
}
