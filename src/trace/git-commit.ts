import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How long one commit look-up may take in all. A trace answers a person waiting in a terminal or
 * a browser, and the commit message only adds the ticket: an unreachable host (a DNS server that
 * never answers, a firewall that drops packets) must cost seconds, not the minute or more ssh and
 * git wait by themselves; the ticket link then says the repository was not reachable.
 */
export const GIT_LOOKUP_TIMEOUT_MS = 10_000;
/** ssh's own connect (and banner) wait, shorter than the whole look-up. */
const SSH_CONNECT_TIMEOUT_SECONDS = 5;

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
export async function commitMessage(
  url: string,
  revision: string,
  options: { timeoutMs?: number } = {},
): Promise<string | undefined> {
  const timeout = options.timeoutMs ?? GIT_LOOKUP_TIMEOUT_MS;
  if (!/^[0-9a-f]{7,64}$/i.test(revision)) return undefined;
  const location = gitLocation(url);
  const local = location.startsWith('/')
    ? location
    : location.startsWith('file://')
      ? location.slice(7)
      : undefined;
  const env = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    // Never ask (a server has nobody to answer), and give up on a silent host early; an operator's
    // own GIT_SSH_COMMAND (a key, a jump host) is kept as it is.
    GIT_SSH_COMMAND:
      process.env.GIT_SSH_COMMAND ?? `ssh -o BatchMode=yes -o ConnectTimeout=${SSH_CONNECT_TIMEOUT_SECONDS}`,
  };
  const deadline = Date.now() + timeout;
  const git = (args: string[]) => runGit(args, env, deadline);
  const show = async (gitDir: string) =>
    (await git(['-C', gitDir, 'log', '-1', '--format=%B', revision])).trim();
  try {
    if (local) return await show(local);
    const dir = await mkdtemp(join(tmpdir(), 'stups-trace-git-'));
    try {
      await git(['clone', '--quiet', '--bare', '--filter=blob:none', location, join(dir, 'repo.git')]);
      return await show(join(dir, 'repo.git'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } catch {
    return undefined;
  }
}

/**
 * Runs git in a process group of its own and kills the whole group at the deadline: git's ssh or
 * https helper is a child of git, and killing git alone would leave it holding the pipes (and the
 * answer) until it gave up by itself.
 */
function runGit(args: string[], env: NodeJS.ProcessEnv, deadline: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const timer = setTimeout(
      () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      },
      Math.max(0, deadline - Date.now()),
    );
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
      else
        reject(
          new Error(
            `git ${args[0] === '-C' ? args[2] : args[0]} ended with ${signal ?? `exit code ${code}`}`,
          ),
        );
    });
  });
}
