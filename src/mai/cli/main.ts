import { Command } from 'commander';
import { CliError } from '../../platform/cli/cli-error.js';
import { lazy } from '../../platform/cli/lazy.js';
import { parseOutputFormat } from '../../platform/cli/output.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import type { MaiDeps } from './session.js';

/** Commands (HTTP client, AWS SDK, zod) load when one runs, so `mai --help` stays fast. */
const commands = lazy(() => import('./commands.js'));
const passwordPrompt = lazy(() => import('@inquirer/password'));

/**
 * `mai`: temporary AWS credentials from a login at the STUPS token service, wire- and
 * file-compatible with STUPS Mai (`~/.config/mai/mai.yaml`, `last_update.yaml`,
 * `~/.aws/credentials`), plus `credential-process`, `exec` and `serve-credentials`, which keep
 * the secrets off disk. `exitCode` receives the exit code of `mai exec`'s child.
 */
export function maiProgram(deps: MaiDeps, exitCode: { value: number } = { value: 0 }): Command {
  const program = new Command('mai')
    .description('Temporary AWS credentials from your STUPS login (Zign session)')
    .version('0.1.0')
    .option('-c, --config-file <file>', 'profiles file (default ~/.config/mai/mai.yaml)')
    .enablePositionalOptions();
  const configFile = () => program.opts<{ configFile?: string }>().configFile;

  // `mai` alone logs in, as in STUPS: the last profile used, else the default, else the first.
  // Anything else that is not a command is a typo, not a profile: STUPS' `mai NAME` did not exist.
  program.action(async (_options: unknown, command: Command) => {
    if (command.args.length > 0) {
      throw new CliError(`unknown command "${command.args[0]}" (see "mai --help")`, 2);
    }
    await (await commands()).loginCommand(deps, configFile(), [], {});
  });

  program
    .command('list')
    .description('list profiles')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { output: string }) =>
      (await commands()).listCommand(deps, configFile(), parseOutputFormat(options.output)),
    );

  const createOptions = (command: Command) =>
    command
      .option('--url <url>', 'identity provider (token service) URL (default: the one zign uses)')
      .option('-U, --user <user>', 'your user name, kept as saml_user (default: env SAML_USER)')
      .option('--account <account>', 'only roles in this account (id or name)')
      .option('--role <role>', 'only this role (name or ARN)');
  const withUser = <T extends { user?: string }>(options: T): T => ({
    ...options,
    user: options.user ?? deps.io.env.SAML_USER,
  });

  createOptions(
    program.command('create').description('create a profile for one of your AWS roles').argument('<name>'),
  ).action(async (name: string, options: { url?: string; user?: string; account?: string; role?: string }) =>
    (await commands()).createCommand(deps, configFile(), name, withUser(options)),
  );

  createOptions(
    program.command('create-all').description('create a profile <account>-<role> for every role you have'),
  ).action(async (options: { url?: string; user?: string; account?: string; role?: string }) =>
    (await commands()).createAllCommand(deps, configFile(), withUser(options)),
  );

  program
    .command('delete')
    .description('delete a profile')
    .argument('<name>')
    .action(async (name: string) => (await commands()).deleteCommand(deps, configFile(), name));

  program
    .command('set-default')
    .description('set the profile used when none is named')
    .argument('<name>')
    .action(async (name: string) => (await commands()).setDefaultCommand(deps, configFile(), name));

  program
    .command('login')
    .description('log in and write temporary credentials to ~/.aws/credentials')
    .argument('[profiles...]')
    .option('-r, --refresh', 'keep running and log in again every 54 minutes')
    .option('--awsprofile <profile>', 'section of ~/.aws/credentials to write (default: "default")')
    .option(
      '--reason <text>',
      'why: for accounts that require a reason, and to ask for approval when the role needs a second approver',
    )
    .action(
      async (profiles: string[], options: { refresh?: boolean; awsprofile?: string; reason?: string }) =>
        (await commands()).loginCommand(deps, configFile(), profiles, options),
    );

  program
    .command('request')
    .description('ask for approval of a role that needs a second approver')
    .argument('[profile]')
    .requiredOption('--reason <text>', 'why you need the role (shown to approvers, audited)')
    .action(async (profile: string | undefined, options: { reason: string }) =>
      (await commands()).requestCommand(deps, configFile(), profile, options),
    );

  program
    .command('requests')
    .description('list access requests: yours and those you may approve')
    .option('--state <state>', 'pending, approved, rejected or expired')
    .option('--url <url>', 'token service URL (default: the one zign uses)')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { state?: string; url?: string; output: string }) =>
      (await commands()).requestsCommand(deps, options, parseOutputFormat(options.output)),
    );

  for (const [name, verdict, what] of [
    ['approve', 'approval', "approve someone else's access request"],
    ['reject', 'rejection', "reject someone else's access request"],
  ] as const) {
    program
      .command(name)
      .description(what)
      .argument('<id>')
      .option('--comment <text>', 'a note for the requester (audited)')
      .option('--url <url>', 'token service URL (default: the one zign uses)')
      .action(async (id: string, options: { comment?: string; url?: string }) =>
        (await commands()).decideCommand(deps, id, verdict, options),
      );
  }

  program
    .command('require')
    .description('log in only when the credentials are missing or older than 54 minutes')
    .argument('[profile]')
    .option('--reason <text>', 'why: for accounts that require a reason (audited)')
    .action(async (profile: string | undefined, options: { reason?: string }) =>
      (await commands()).requireCommand(deps, configFile(), profile, options),
    );

  program
    .command('credential-process')
    .description('print credentials as JSON for credential_process in ~/.aws/config (nothing on disk)')
    .argument('<profile>')
    .option('--reason <text>', 'why: for accounts that require a reason (audited)')
    .action(async (profile: string, options: { reason?: string }) =>
      (await commands()).credentialProcessCommand(deps, configFile(), profile, options),
    );

  program
    .command('exec')
    .description('run a command with the credentials in its environment only')
    .argument('<profile>')
    .argument('<command...>', 'the command and its arguments, after "--"')
    .option('--reason <text>', 'why: for accounts that require a reason (audited)')
    .passThroughOptions()
    .action(async (profile: string, command: string[], options: { reason?: string }) => {
      exitCode.value = await (await commands()).execCommand(deps, configFile(), profile, command, options);
    });

  program
    .command('serve-credentials')
    .description('serve renewing credentials on loopback for AWS_CONTAINER_CREDENTIALS_FULL_URI')
    .argument('<profile>')
    .option('--port <port>', 'port on 127.0.0.1 (default: any free one)')
    .option('--reason <text>', 'why: for accounts that require a reason (audited)')
    .action(async (profile: string, options: { port?: string; reason?: string }) =>
      (await commands()).serveCredentialsCommand(deps, configFile(), profile, options),
    );

  // Only now: subcommands copy the setting when they are created, and they must refuse extra arguments.
  program.allowExcessArguments(true);
  return program;
}

/** Runs mai in-process and returns the exit code (`mai exec`: the child's). */
export async function runMai(args: readonly string[], deps: MaiDeps): Promise<number> {
  const exitCode = { value: 0 };
  const code = await runCli(maiProgram(deps, exitCode), args, deps.io);
  return code !== 0 ? code : exitCode.value;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  const stop = new AbortController();
  // Ctrl-C ends `login -r` and `serve-credentials` cleanly; a second one (or any other command) exits.
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deps: MaiDeps = {
    io,
    signal: stop.signal,
    chooseRole: async (choices) => {
      choices.forEach((choice, i) => io.stderr.write(`${i + 1}) ${choice}\n`));
      const { createInterface } = await import('node:readline/promises');
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return Number(await prompt.question(`Choose a role [1-${choices.length}]: `)) - 1;
      } finally {
        prompt.close();
      }
    },
    promptPassword: async (message) => {
      const { default: password } = await passwordPrompt();
      return password({ message, mask: false });
    },
  };
  process.exitCode = await runMai(argv, deps);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
