import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError } from './cli-error.js';

/** Where a STUPS tool keeps its configuration: `$XDG_CONFIG_HOME/<tool>/` or `~/.config/<tool>/`. */
export function configDir(tool: string, env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, tool);
}

export type ToolConfig = Record<string, string>;

/**
 * Reads `<tool>.yaml`; an environment variable `<TOOL>_<KEY>` overrides any key, as the
 * original STUPS CLIs do (`KIO_URL`, `PIERONE_URL`, `ZIGN_URL`, …).
 */
export async function loadToolConfig(tool: string, env: NodeJS.ProcessEnv): Promise<ToolConfig> {
  const file = join(configDir(tool, env), `${tool}.yaml`);
  let config: ToolConfig = {};
  try {
    const parsed: unknown = parse(await readFile(file, 'utf8'));
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed))
        throw new CliError(`${file}: expected a mapping of keys to values`);
      config = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof CliError) throw error;
      throw new CliError(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  const prefix = `${tool.toUpperCase().replace(/-/g, '_')}_`;
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix) && value !== undefined)
      config[name.slice(prefix.length).toLowerCase()] = value;
  }
  return config;
}

/** Merges keys into `<tool>.yaml`, written atomically with owner-only permissions. */
export async function saveToolConfig(
  tool: string,
  env: NodeJS.ProcessEnv,
  changes: ToolConfig,
): Promise<string> {
  const file = join(configDir(tool, env), `${tool}.yaml`);
  let current: ToolConfig = {};
  try {
    current = (parse(await readFile(file, 'utf8')) as ToolConfig | null) ?? {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writePrivateFile(file, stringify({ ...current, ...changes }));
  return file;
}

/** Writes a file only its owner can read, replacing it atomically (no half-written config). */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  await rename(temp, file);
}

/** A service URL from config: no trailing slash; a bare host gets `https://`, as STUPS clients do. */
export function normaliseUrl(url: string): string {
  const withScheme = /^https?:\/\//.test(url) ? url : `https://${url}`;
  return withScheme.replace(/\/+$/, '');
}
