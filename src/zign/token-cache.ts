import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { configDir, writePrivateFile } from '../platform/cli/cli-config.js';

/** One named token as Zign keeps it in `~/.config/zign/tokens.yaml` (owner-only file). */
export interface CachedToken {
  access_token: string;
  refresh_token?: string | undefined;
  /** ISO timestamp. */
  expires_at: string;
  scope: string[];
  /** Where it came from: token endpoint URL, so a changed ZIGN_URL never reuses a foreign token. */
  token_url: string;
  created: string;
}

export type TokenCache = Record<string, CachedToken>;

export function tokenCacheFile(env: NodeJS.ProcessEnv): string {
  return join(configDir('zign', env), 'tokens.yaml');
}

export async function readTokenCache(env: NodeJS.ProcessEnv): Promise<TokenCache> {
  try {
    const parsed = parse(await readFile(tokenCacheFile(env), 'utf8')) as TokenCache | null;
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    // A corrupt cache only costs a new login; never fail a command over it.
    return {};
  }
}

export async function writeTokenCache(env: NodeJS.ProcessEnv, cache: TokenCache): Promise<void> {
  await writePrivateFile(tokenCacheFile(env), stringify(cache));
}

/** Valid for at least this long, or it is refreshed first (a token must outlive the request it is for). */
export const MIN_REMAINING_SECONDS = 60;

export function isFresh(token: CachedToken, now = Date.now()): boolean {
  return new Date(token.expires_at).getTime() - now > MIN_REMAINING_SECONDS * 1000;
}
