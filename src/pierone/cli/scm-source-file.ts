import { execFile } from 'node:child_process';
import { realpath, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CliError } from '../../platform/cli/cli-error.js';

const exec = promisify(execFile);

/** What Pier One reads from an image's `/scm-source.json`. */
export interface ScmSourceFile {
  url: string;
  revision: string;
  author: string;
  status: string;
}

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    // Only the end: porcelain status lines start with a meaningful space (" M file").
    return (await exec('git', args, { cwd, maxBuffer: 8 * 1024 * 1024 })).stdout.trimEnd();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new CliError('git is not installed');
    throw new CliError(`${cwd} is not a git checkout (${(e.stderr ?? e.message).trim().split('\n')[0]})`);
  }
}

/**
 * Describes the checkout in `cwd`: remote URL, HEAD revision, author, and — when files
 * differ from HEAD — the porcelain status, with "(locally modified)" after the revision so
 * nobody mistakes the image for a build of that commit. `ownFile`, the scm-source.json being
 * written, does not count: an earlier run's output would otherwise mark every later build.
 */
export async function describeCheckout(
  cwd: string,
  env: NodeJS.ProcessEnv,
  ownFile?: string,
): Promise<ScmSourceFile> {
  const revision = await git(cwd, ['rev-parse', 'HEAD']);
  const url = await git(cwd, ['config', '--get', 'remote.origin.url']).catch(() => '');
  if (!url) throw new CliError(`${cwd} has no remote "origin": Pier One needs the repository URL`);
  const top = await git(cwd, ['rev-parse', '--show-toplevel']);
  // git names the top level by its real path; so must we (a symlinked /tmp, a checkout in ~/link).
  const own =
    ownFile === undefined
      ? undefined
      : relative(top, join(await realDir(dirname(resolve(cwd, ownFile))), basename(ownFile)));
  // The whole checkout (`:/`), as a plain `git status` would, minus our own output file; untracked
  // files one by one, or a new directory holding only that file would still count.
  const pathspec =
    own !== undefined && !own.startsWith('..') && !isAbsolute(own)
      ? ['--untracked-files=all', '--', ':/', `:(top,exclude,literal)${own}`]
      : [];
  const status = await git(cwd, ['status', '--porcelain', ...pathspec]);
  const author = env.USER || env.LOGNAME || (await gitAuthorName(cwd, env));
  return {
    url: `git:${url.replace(/^git:/, '')}`,
    revision: status ? `${revision} (locally modified)` : revision,
    author,
    status,
  };
}

/**
 * The name git itself would put on a commit here: `git var GIT_AUTHOR_IDENT` honours
 * GIT_AUTHOR_NAME, the repository's and the global `user.name`, where `git config --get
 * user.name` sees only the configuration. Empty when git knows no name.
 */
async function gitAuthorName(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await exec('git', ['var', 'GIT_AUTHOR_IDENT'], {
      cwd,
      env: { ...process.env, ...env },
    });
    return stdout.replace(/\s*<[^>]*>.*$/s, '').trim();
  } catch {
    return '';
  }
}

async function realDir(dir: string): Promise<string> {
  return realpath(dir).catch(() => dir);
}

export async function writeScmSourceFile(
  cwd: string,
  env: NodeJS.ProcessEnv,
  output?: string,
): Promise<string> {
  const file = resolve(cwd, output ?? join(cwd, 'scm-source.json'));
  await writeFile(file, `${JSON.stringify(await describeCheckout(cwd, env, file), null, 2)}\n`);
  return file;
}
