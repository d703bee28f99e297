import { readFile } from 'node:fs/promises';
import { writePrivateFile } from '../platform/cli/cli-config.js';

/**
 * Edits `~/.aws/credentials` the way a careful person would: one section's keys are set, and
 * every other byte — other profiles, comments, blank lines, key order — stays as it was.
 *
 * Why not an INI library: the ones on npm (`ini`, `js-ini`) parse into objects and write the
 * objects back, which drops comments and reorders keys; Mai's contract (as STUPS' configparser
 * round trip kept them) is that hand-written sections survive a login untouched. The format the
 * AWS SDKs read is small — `[section]` headers, `key = value`, `#`/`;` comments, indented
 * continuation lines — so the editor works on lines.
 */

const SECTION = /^\s*\[([^\]]+)\]\s*$/;
const KEY = /^([^=:\s#;][^=:]*?)\s*[=:]/;

interface Line {
  text: string;
  /** The section the line belongs to (`undefined` before the first header). */
  section: string | undefined;
  /** The key it sets, lower-cased as botocore's configparser compares them. */
  key?: string;
}

function parseLines(content: string): Line[] {
  let section: string | undefined;
  return content.split('\n').map((text) => {
    const header = SECTION.exec(text);
    if (header) {
      section = header[1]!.trim();
      return { text, section };
    }
    // Continuation lines start with white space and belong to the key above.
    const key = /^\s/.test(text) ? undefined : KEY.exec(text)?.[1]?.trim().toLowerCase();
    return key === undefined ? { text, section } : { text, section, key };
  });
}

/** The keys of one section, as the AWS SDKs would read them (last assignment wins). */
export function readSection(content: string, name: string): Record<string, string> | undefined {
  const lines = parseLines(content);
  if (!lines.some((l) => l.section === name && SECTION.test(l.text))) return undefined;
  const values: Record<string, string> = {};
  for (const line of lines) {
    if (line.section !== name || line.key === undefined) continue;
    values[line.key] = line.text.slice(line.text.search(/[=:]/) + 1).trim();
  }
  return values;
}

/**
 * `content` with section `name` holding `values`: existing keys are replaced in place (a key
 * assigned twice keeps only its first line), new keys follow the section's last key, and a new
 * section is appended at the end, separated by a blank line.
 */
export function setSection(content: string, name: string, values: Record<string, string>): string {
  if (/[\]\n\r]/.test(name) || name.trim() !== name || name === '') {
    throw new Error(`"${name}" cannot be a section name in an AWS credentials file`);
  }
  const lines = parseLines(content);
  const wanted = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), `${k} = ${v}`]));
  const headerIndex = lines.findIndex((l) => l.section === name && SECTION.test(l.text));
  if (headerIndex < 0) {
    const body = [`[${name}]`, ...wanted.values()].join('\n');
    if (content === '') return `${body}\n`;
    const trimmed = content.replace(/\n*$/, '');
    return `${trimmed}\n\n${body}\n`;
  }
  const out: string[] = [];
  const written = new Set<string>();
  let lastKeyOfSection = -1;
  let skippingContinuation = false;
  for (const [index, line] of lines.entries()) {
    const inSection = line.section === name && index > headerIndex;
    if (skippingContinuation && inSection && /^\s+\S/.test(line.text)) continue;
    skippingContinuation = false;
    if (inSection && line.key !== undefined && wanted.has(line.key)) {
      if (written.has(line.key)) {
        skippingContinuation = true;
        continue;
      }
      out.push(wanted.get(line.key)!);
      written.add(line.key);
      skippingContinuation = true;
      lastKeyOfSection = out.length - 1;
      continue;
    }
    out.push(line.text);
    const continuesLastKey = lastKeyOfSection === out.length - 2 && /^\s+\S/.test(line.text);
    if (inSection && (line.key !== undefined || continuesLastKey)) lastKeyOfSection = out.length - 1;
    if (index === headerIndex) lastKeyOfSection = out.length - 1;
  }
  const missing = [...wanted.entries()].filter(([k]) => !written.has(k)).map(([, text]) => text);
  out.splice(lastKeyOfSection + 1, 0, ...missing);
  return out.join('\n');
}

/** Reads the file, or '' when there is none yet. */
export async function readCredentialsFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** The temporary credentials STS answered, as the file keeps them. */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/**
 * Writes `credentials` into profile `profile`, with `aws_security_token` repeating the session
 * token for SDKs older than its rename (STUPS' Mai wrote both). Owner-only, replaced atomically.
 */
export async function writeProfileCredentials(
  file: string,
  profile: string,
  credentials: TemporaryCredentials,
): Promise<void> {
  const content = await readCredentialsFile(file);
  const updated = setSection(content, profile, {
    aws_access_key_id: credentials.accessKeyId,
    aws_secret_access_key: credentials.secretAccessKey,
    aws_session_token: credentials.sessionToken,
    aws_security_token: credentials.sessionToken,
  });
  await writePrivateFile(file, updated);
}
