import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { loadToolConfig, normaliseUrl, saveToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpClient, HttpError, timeoutMsFrom } from '../../platform/cli/http-client.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import { getToken, type ZignDeps } from '../../zign/get-token.js';
import { copyToClipboard, findClipboard } from '../clipboard.js';

const HOST = /^[a-z0-9.-]{1,255}$/;
const USER = /^[a-z][a-z0-9-]{0,31}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const TRUE = new Set(['1', 'true', 'yes', 'on']);

export interface PiuDeps extends ZignDeps {
  /** Runs `ssh` for `--connect`; returns its exit code. Injectable for tests. */
  runSsh?: (args: string[]) => Promise<number>;
}

interface RequestOptions {
  user?: string;
  oddHost?: string;
  evenUrl?: string;
  lifetime?: string;
  connect?: boolean;
  interactive?: boolean;
  clip?: boolean;
}

function defaultRunSsh(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: 'inherit' });
    child.on('error', (error) => reject(new CliError(`cannot run ssh: ${error.message}`)));
    child.on('exit', (code) => resolve(code ?? 255));
  });
}

/** Reads answers line by line from the CLI's stdin (a terminal, or a pipe in tests). */
function prompter(input: NodeJS.ReadableStream, output: NodeJS.WritableStream) {
  const rl = createInterface({ input, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question: string, fallback?: string): Promise<string> {
      output.write(fallback ? `${question} [${fallback}]: ` : `${question}: `);
      const next = await lines.next();
      const answer = next.done ? '' : String(next.value).trim();
      return answer || fallback || '';
    },
    close: () => rl.close(),
  };
}

/**
 * The positional words of `piu request-access [HOST] REASON…`: with one word it is the reason
 * (access to the bastion itself), unless it looks like a host, which is a forgotten reason.
 */
export function splitHostAndReason(words: readonly string[]): { host?: string; reason: string } {
  if (words.length === 0) return { reason: '' };
  if (words.length === 1) {
    const only = words[0]!;
    if (/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(only)) {
      throw new CliError(`a reason is required: piu ${only} "why you need access"`, 2);
    }
    return { reason: only };
  }
  return { host: words[0]!, reason: words.slice(1).join(' ') };
}

/** `piu`: request SSH access through even and the team's odd bastion. */
export function piuProgram(deps: PiuDeps): Command {
  const { io } = deps;
  const program = new Command('piu')
    .description('Request SSH access to a team server through its odd bastion host (even)')
    .version('0.1.0');

  program
    .command('request-access', { isDefault: false })
    .description('request access to HOST (or the odd bastion itself) for REASON')
    .argument('[words...]', '[HOST] REASON')
    .option('-U, --user <username>', 'login name to grant (default: your user id)')
    .option(
      '-O, --odd-host <host>',
      'odd bastion host (remembered in ~/.config/piu/piu.yaml; unset: HOST itself)',
    )
    .option('-E, --even-url <url>', 'even URL (remembered in ~/.config/piu/piu.yaml)')
    .option('-l, --lifetime <minutes>', 'how long the access lasts (even caps it)')
    .option('-c, --connect', 'connect with ssh as soon as access is granted (or PIU_CONNECT=true)')
    .option('-i, --interactive', 'ask for host and reason (or PIU_INTERACTIVE=true)')
    .option('--clip', 'copy the ssh command to the clipboard')
    .action(async (words: string[], options: RequestOptions) => {
      const config = await loadToolConfig('piu', io.env);
      const connect = options.connect ?? TRUE.has((config.connect ?? '').toLowerCase());
      const interactive = options.interactive ?? TRUE.has((config.interactive ?? '').toLowerCase());
      // Fail before asking even for anything: a grant nobody can paste is a wasted audit entry.
      const clipboard = options.clip ? findClipboard(io.env) : undefined;

      let { host, reason } = splitHostAndReason(words);
      let evenUrl = options.evenUrl ?? config.even_url;
      let oddHost = options.oddHost ?? config.odd_host;
      if (interactive) {
        const ask = prompter(io.stdin, io.stderr);
        try {
          evenUrl ||= await ask.ask('even URL (e.g. https://even.stups.example.org)');
          oddHost ||= await ask.ask('odd host (e.g. odd-eu-west-1.myteam.example.org)');
          host = (await ask.ask('Host to access (empty: the odd host itself)', host)) || undefined;
          reason = await ask.ask('Reason', reason || undefined);
        } finally {
          ask.close();
        }
      }
      if (!evenUrl) {
        throw new CliError(
          'no even URL: use -E URL, set even_url in ~/.config/piu/piu.yaml or PIU_EVEN_URL',
          2,
        );
      }
      // `piu odd-eu-central-1.demo.example.org REASON` with no odd host known asks for the bastion
      // itself (docs/walkthrough.md). Only even knows its hostname templates and allow-list, so it
      // decides whether the name is a bastion and refuses in words if not ("not a known bastion").
      // An IP address is an instance behind a bastion, never one of even's bastion names.
      if (!oddHost && host !== undefined && !IPV4.test(host)) oddHost = host;
      if (!oddHost) {
        throw new CliError(
          `no odd host${host ? ` to reach ${host} through` : ''}: use -O odd-<region>.<team>.example.org, set odd_host in ~/.config/piu/piu.yaml or PIU_ODD_HOST`,
          2,
        );
      }
      if (!reason.trim()) throw new CliError('a reason is required: piu [HOST] "why you need access"', 2);
      if (!HOST.test(oddHost))
        throw new CliError(`invalid odd host "${oddHost}": lowercase letters, digits, "." and "-"`, 2);
      if (host !== undefined && !HOST.test(host)) {
        throw new CliError(`invalid host "${host}": lowercase letters, digits, "." and "-"`, 2);
      }
      if (options.user !== undefined && !USER.test(options.user)) {
        throw new CliError(`invalid user name "${options.user}"`, 2);
      }
      let lifetime: number | undefined;
      if (options.lifetime !== undefined) {
        if (!/^[1-9]\d{0,5}$/.test(options.lifetime))
          throw new CliError('--lifetime must be whole minutes', 2);
        lifetime = Number(options.lifetime);
      }
      const baseUrl = normaliseUrl(evenUrl);
      const remoteHost = host !== undefined && host !== oddHost ? host : undefined;

      const even = new HttpClient({
        baseUrl,
        service: 'even',
        fetch: deps.fetch,
        timeoutMs: timeoutMsFrom(config.timeout, 'PIU_TIMEOUT'),
        timeoutSetting: 'PIU_TIMEOUT',
        token: () => getToken('default', ['uid'], {}, deps),
      });
      const response = await even.request('POST', '/access-requests', {
        hostname: oddHost,
        reason,
        ...(options.user ? { username: options.user } : {}),
        ...(remoteHost ? { remote_host: remoteHost } : {}),
        ...(lifetime ? { lifetime_minutes: lifetime } : {}),
      });
      const text = await even.readText(response);
      if (!response.ok) throw describeFailure(response.status, text, oddHost, baseUrl);
      io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      await saveToolConfig('piu', io.env, { even_url: baseUrl, odd_host: oddHost });

      const user = /for user (\S+) was granted/.exec(text)?.[1] ?? options.user ?? io.env.USER ?? '';
      const port = config.odd_port;
      const sshArgs = [
        '-tA',
        ...(port ? ['-p', port] : []),
        `${user}@${oddHost}`,
        ...(remoteHost ? ['ssh', '-o', 'StrictHostKeyChecking=no', `${user}@${remoteHost}`] : []),
      ];
      const command = `ssh ${sshArgs.join(' ')}`;
      io.stdout.write(`You can now access your server with the following command:\n${command}\n`);
      if (clipboard) {
        await copyToClipboard(clipboard, command, io.env);
        io.stderr.write(`Copied to the clipboard with ${clipboard.command}.\n`);
      }
      if (connect) {
        const code = await (deps.runSsh ?? defaultRunSsh)(sshArgs);
        if (code !== 0) throw new CliError(`ssh ended with exit code ${code}`);
      }
    });

  program
    .command('configure')
    .description('remember the even URL and the odd host')
    .option('-E, --even-url <url>', 'even URL')
    .option('-O, --odd-host <host>', 'odd bastion host')
    .action(async (options: { evenUrl?: string; oddHost?: string }) => {
      if (options.oddHost !== undefined && !HOST.test(options.oddHost)) {
        throw new CliError(`invalid odd host "${options.oddHost}"`, 2);
      }
      const changes: Record<string, string> = {};
      if (options.evenUrl) changes.even_url = normaliseUrl(options.evenUrl);
      if (options.oddHost) changes.odd_host = options.oddHost;
      if (!Object.keys(changes).length) throw new CliError('give --even-url and/or --odd-host', 2);
      io.stdout.write(`Saved ${await saveToolConfig('piu', io.env, changes)}\n`);
    });

  return program;
}

/** One clear line for what went wrong, in the words of the access-granting flow. */
function describeFailure(status: number, text: string, oddHost: string, baseUrl: string): CliError {
  let detail = text.trim().split('\n')[0] ?? '';
  try {
    const body = JSON.parse(text) as { detail?: string; message?: string };
    detail = body.detail ?? body.message ?? detail;
  } catch {
    // Not JSON: the first line of the text says it.
  }
  if (status === 401)
    return new HttpError(`even did not accept your token: ${detail}; run "zign token"`, status, text);
  if (status === 403) return new HttpError(`Access to host ${oddHost} was denied: ${detail}`, status, text);
  if (status === 400) return new HttpError(`Access request to ${oddHost} failed: ${detail}`, status, text);
  return new HttpError(`even at ${baseUrl} answered ${status}: ${detail || 'no detail'}`, status, text);
}

const COMMANDS = new Set(['request-access', 'configure', 'help']);

/**
 * `piu HOST REASON` is short for `piu request-access HOST REASON`, as in the original: any first
 * word that is not a command (or a prefix of one) starts a request.
 */
export function withDefaultCommand(args: readonly string[]): string[] {
  const first = args[0];
  if (first === undefined) return ['request-access'];
  if (['-h', '--help', '-V', '--version'].includes(first)) return [...args];
  if (
    COMMANDS.has(first) ||
    (!first.startsWith('-') && [...COMMANDS].some((c) => c.startsWith(first) && !first.includes('.')))
  ) {
    return [...args];
  }
  return ['request-access', ...args];
}

export async function runPiu(args: readonly string[], deps: PiuDeps): Promise<number> {
  return runCli(piuProgram(deps), withDefaultCommand(args), deps.io);
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runPiu(argv, { io });
}
