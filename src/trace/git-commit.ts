import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GIT_TIMEOUT_MS = 60_000;

/**
 * Where `git` can read a scm-source URL: STUPS writes `git:<url>` (`git:git@github.com:o/r.git`);
 * `file://` and plain paths are local clones.
 */
export function gitLocation(url: string): string {
  return url.startsWith('git:') && !url.startsWith('git://') ? url.slice('git:'.length) : url;
}

/**
 * The full message of `revision` in the repository at `url`, or undefined when the repository
 * cannot be read or has no such commit. A remote repository is fetched bare without blobs into a
 * temporary directory (only commits are needed); a local one is read in place.
 */
export async function commitMessage(url: string, revision: string): Promise<string | undefined> {
  if (!/^[0-9a-f]{7,64}$/i.test(revision)) return undefined;
  const location = gitLocation(url);
  const local = location.startsWith('/')
    ? location
    : location.startsWith('file://')
      ? location.slice(7)
      : undefined;
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' };
  const show = async (gitDir: string) =>
    (
      await run('git', ['-C', gitDir, 'log', '-1', '--format=%B', revision], { env, timeout: GIT_TIMEOUT_MS })
    ).stdout.trim();
  try {
    if (local) return await show(local);
    const dir = await mkdtemp(join(tmpdir(), 'stups-trace-git-'));
    try {
      await run(
        'git',
        ['clone', '--quiet', '--bare', '--filter=blob:none', location, join(dir, 'repo.git')],
        {
          env,
          timeout: GIT_TIMEOUT_MS,
        },
      );
      return await show(join(dir, 'repo.git'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } catch {
    return undefined;
  }
}
