import { type Command, CommanderError } from 'commander';
import { StupsError } from '../errors.js';
import { CliError } from './cli-error.js';

/** The world a command sees; injectable so commands run in-process in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * STUPS CLIs accept unambiguous prefixes of commands (`kio app li`). Rewrites argv so
 * commander sees full names. As clickclick's AliasedGroup: an exact name wins (`request` over
 * `requests`), a unique prefix resolves, and an ambiguous one is a usage error listing the
 * candidates (`req`: request, requests, require) rather than a misleading "unknown command".
 */
export function expandAbbreviations(program: Command, args: readonly string[]): string[] {
  const out = [...args];
  let command: Command = program;
  for (let i = 0; i < out.length; i++) {
    const token = out[i]!;
    if (token === '--') break;
    if (token.startsWith('-')) {
      const flag = token.split('=')[0]!;
      const option = command.options.find((o) => o.short === flag || o.long === flag);
      if (option && (option.required || option.optional) && !token.includes('=')) i++;
      continue;
    }
    const subcommands = command.commands;
    if (!subcommands.length) break;
    const exact = subcommands.find((c) => c.name() === token || c.aliases().includes(token));
    const matches = exact ? [exact] : subcommands.filter((c) => c.name().startsWith(token));
    if (matches.length > 1) {
      const names = matches.map((c) => c.name()).sort();
      throw new CliError(`"${token}" is ambiguous: ${names.join(', ')}`, 2);
    }
    if (matches.length !== 1) break;
    out[i] = matches[0]!.name();
    command = matches[0]!;
  }
  return out;
}

function configureRecursively(command: Command, io: CliIo): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
  });
  for (const sub of command.commands) configureRecursively(sub, io);
}

/**
 * Runs a commander program and returns the exit code instead of exiting: 0 ok, 1 the
 * request failed (one line on stderr), 2 usage. Stack traces only with `STUPS_DEBUG=1`.
 */
export async function runCli(program: Command, args: readonly string[], io: CliIo): Promise<number> {
  const tool = program.name();
  configureRecursively(program, io);
  try {
    // Inside the try: an ambiguous abbreviation is a usage error like any other (exit 2).
    await program.parseAsync(expandAbbreviations(program, args), { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message or the help text.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      io.stderr.write(`${tool}: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof StupsError) {
      io.stderr.write(`${tool}: ${error.message}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`${tool}: unexpected error: ${message}\n`);
    if (io.env.STUPS_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
