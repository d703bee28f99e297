import { Command } from 'commander';
import { normaliseUrl, saveToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { parseOutputFormat, relativeTime, renderRows } from '../../platform/cli/output.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import { DEFAULT_TOKEN_NAME, getToken, type ZignDeps } from '../get-token.js';
import { removeFromTokenCli } from '../token-cli-files.js';
import { readTokenCache, writeTokenCache } from '../token-cache.js';
import { lazy } from '../../platform/cli/lazy.js';

/** The prompt library is loaded only when a password is asked for. */
const passwordPrompt = lazy(() => import('@inquirer/password'));

/** The flags `loginOptions` adds; commander hands them over untyped. */
interface LoginFlags {
  user?: string;
  passwordStdin?: boolean;
  device?: boolean;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of stream) data += chunk.toString();
  // Only the first line: `echo pw | zign login --password-stdin` must not send the newline.
  return data.split(/\r?\n/)[0] ?? '';
}

function checkName(name: string): string {
  if (!NAME.test(name))
    throw new CliError(`invalid token name "${name}": use letters, digits, ".", "_" or "-"`, 2);
  return name;
}

/** `zign`: OAuth2 access tokens on the command line. */
export function zignProgram(deps: ZignDeps): Command {
  const { io } = deps;
  const program = new Command('zign')
    .description('Get OAuth2 access tokens from the STUPS token service')
    .version('0.1.0');

  program
    .command('configure')
    .description('set the token service URL and your user name (~/.config/zign/zign.yaml)')
    .option('--url <url>', 'token service base URL')
    .option('-U, --user <user>', 'your user name')
    .action(async (options: { url?: string; user?: string }) => {
      if (!options.url && !options.user) throw new CliError('give --url and/or --user', 2);
      const file = await saveToolConfig('zign', io.env, {
        ...(options.url ? { url: normaliseUrl(options.url) } : {}),
        ...(options.user ? { user: options.user } : {}),
      });
      io.stdout.write(`Saved ${file}\n`);
    });

  const loginOptions = (command: Command) =>
    command
      .option('-U, --user <user>', 'user name (default: configured user or $USER)')
      .option('--password-stdin', 'read the password from standard input')
      .option('--device', 'log in through the browser with a device code instead of a password');

  const resolveLogin = async (options: LoginFlags) => ({
    user: options.user,
    device: options.device,
    password: options.passwordStdin ? await readStdin(io.stdin) : undefined,
  });

  loginOptions(program.command('login').description('log in and keep a refreshable token')).action(
    async (options: LoginFlags) => {
      await getToken(DEFAULT_TOKEN_NAME, ['uid'], { ...(await resolveLogin(options)), refresh: true }, deps);
      io.stdout.write('Logged in.\n');
    },
  );

  loginOptions(
    program
      .command('token')
      .description('print an access token (cached until shortly before it expires)')
      .argument('[scopes...]', 'scopes to request', ['uid'])
      .option('-n, --name <name>', 'keep the token under this name')
      .option('--refresh', 'get a new token even if the cached one is still valid'),
  ).action(async (scopes: string[], options: LoginFlags & { name?: string; refresh?: boolean }) => {
    const name = checkName(options.name ?? DEFAULT_TOKEN_NAME);
    const token = await getToken(
      name,
      scopes.length ? scopes : ['uid'],
      { ...(await resolveLogin(options)), refresh: options.refresh },
      deps,
    );
    io.stdout.write(`${token}\n`);
  });

  program
    .command('list')
    .description('list cached tokens')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const cache = await readTokenCache(io.env);
      const rows = Object.entries(cache).map(([name, t]) => ({ name, ...t }));
      io.stdout.write(
        renderRows(
          rows,
          [
            { title: 'Name', key: 'name', value: (r) => r.name },
            {
              title: 'Token',
              key: 'access_token',
              value: (r) => (format === 'text' ? `${r.access_token.slice(0, 12)}…` : r.access_token),
            },
            { title: 'Scope', key: 'scope', value: (r) => r.scope },
            {
              title: 'Expires',
              key: 'expires_at',
              value: (r) => (format === 'text' ? relativeTime(new Date(r.expires_at)) : r.expires_at),
            },
          ],
          format,
        ),
      );
    });

  program
    .command('delete')
    .description('forget a cached token')
    .argument('<name>', 'token name')
    .action(async (name: string) => {
      const cache = await readTokenCache(io.env);
      if (!cache[checkName(name)]) throw new CliError(`no token named "${name}"`);
      delete cache[name];
      await writeTokenCache(io.env, cache);
      // The copy tools of the original Zign read goes too, or they would keep using it.
      await removeFromTokenCli(io.env, name);
    });

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  const deps: ZignDeps = {
    io,
    promptPassword: async (message) => {
      const { default: password } = await passwordPrompt();
      return password({ message, mask: false });
    },
  };
  process.exitCode = await runCli(zignProgram(deps), argv, io);
}
