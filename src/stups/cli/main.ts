import { registerSshKeyCommands } from '../../users/cli/ssh-key-command.js';
import { Command, Option } from 'commander';
import { CliError } from '../../platform/cli/cli-error.js';
import { type CliIo, processIo, runCli } from '../../platform/cli/run-cli.js';
import type { ServiceName } from '../../platform/service-context.js';
import { adminCommands } from './admin.js';
import { mintCommands } from './mint.js';
import { sandboxCommands } from './sandbox.js';
import { traceCommand } from './trace.js';
import type { UpOptions } from './up.js';
import { lazy } from '../../platform/cli/lazy.js';

// Loaded when their command runs: `stups --help` and light commands never pay for the runtime.
const upModule = lazy(() => import('./up.js'));
const modules = lazy(() => import('../modules.js'));
const configPrintModule = lazy(() => import('./config-print.js'));
const configureModule = lazy(() => import('./configure.js'));
const scmSourceModule = lazy(() => import('../../pierone/cli/scm-source-file.js'));

const BASE_PORT_FLAG = '-p, --base-port <port>';
const BASE_PORT_HELP =
  'first port of the block; each service listens at its offset in the port map (default 8090, env STUPS_BASE_PORT)';

/** The `stups` command table; each command imports its implementation when it runs. */
export function stupsProgram(io: CliIo): Command {
  const program = new Command('stups')
    .description('STUPS platform: run it, configure the command line tools, trace what runs')
    .version('0.1.0');

  const settingsOptions = (command: Command) =>
    command
      .option(
        '-c, --config <file>',
        'settings file, YAML keyed by section (env STUPS_CONFIG; docs/configuration.md)',
      )
      .option(
        '-d, --data-dir <dir>',
        'embedded database, blobs and certificates (default ./.stups, env STUPS_DATA_DIR)',
      )
      .option('--org <file>', 'organisation to seed: teams, users, admins (default: the demo organisation)')
      .option('--host <host>', 'interface to listen on (default 127.0.0.1, env STUPS_HOST)')
      .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate')
      .option('--tls-key <file>', 'private key of --tls-cert')
      .option('--self-signed', 'serve HTTPS with a self-signed certificate kept in the data directory')
      .addOption(
        new Option('--log-level <level>', 'log level').choices([
          'fatal',
          'error',
          'warn',
          'info',
          'debug',
          'trace',
          'silent',
        ]),
      );

  settingsOptions(
    program
      .command('up')
      .description(
        'run every platform service in this process on embedded defaults (DATABASE_URL switches to PostgreSQL)',
      )
      .option(BASE_PORT_FLAG, BASE_PORT_HELP),
  ).action(async (options: UpOptions) => {
    await (await upModule()).up(options, io);
  });

  settingsOptions(
    program
      .command('serve')
      .description('run one service alone (stateless; point DATABASE_URL at the shared PostgreSQL)')
      .argument('<service>', 'a service name, e.g. kio (see `stups up`)')
      .option('-p, --port <port>', 'port to listen on (default: its port in the stups up layout)'),
  ).action(async (service: string, options: UpOptions & { port?: string }) => {
    const { MODULES } = await modules();
    const names = MODULES.map((m) => m.name);
    if (!(names as string[]).includes(service)) {
      throw new CliError(`unknown service "${service}"; choose one of ${names.join(', ')}`, 2);
    }
    const port = options.port === undefined ? undefined : Number(options.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
      throw new CliError(`--port must be a port number (got "${options.port}")`, 2);
    }
    const { up } = await upModule();
    const { port: _port, ...rest } = options;
    await up(rest, io, { service: service as ServiceName, ...(port === undefined ? {} : { port }) });
  });

  settingsOptions(
    program
      .command('config')
      .description('show the settings stups up would run with')
      .command('print')
      .description('print the effective settings tree as YAML, secrets redacted')
      .option(BASE_PORT_FLAG, BASE_PORT_HELP),
  ).action(async (options: UpOptions) => {
    const { configPrint } = await configPrintModule();
    await configPrint(options, io);
  });

  program
    .command('configure')
    .description('point every STUPS command line tool at a running platform')
    .argument('<url>', 'URL of any platform service, e.g. http://localhost:8091')
    .option('-U, --user <user>', 'your user name for zign')
    .action(async (url: string, options: { user?: string }) => {
      const { configure } = await configureModule();
      await configure(url, options, io);
    });

  program
    .command('scm-source')
    .description('write scm-source.json for the git checkout here, for Pier One traceability')
    .option('-f, --file <file>', 'where to write it (default ./scm-source.json)')
    .action(async (options: { file?: string }) => {
      const { writeScmSourceFile } = await scmSourceModule();
      io.stdout.write(`Wrote ${await writeScmSourceFile(io.cwd, io.env, options.file)}\n`);
    });

  program
    .command('aws-emulator')
    .description('run moto_server on loopback as a STUPS AWS account for trying senza (needs moto[server])')
    .option('-p, --port <port>', 'port on 127.0.0.1 (default 5000)')
    .option('--domain <domain>', 'hosted zone and certificate domain (default example.org)')
    .option('--account-alias <alias>', 'the account alias (default myorg-myteam)')
    .action(async (options: { port?: string; domain?: string; accountAlias?: string }) => {
      const { awsEmulator } = await import('../../senza/aws-emulator.js');
      await awsEmulator(options, io);
    });

  registerSshKeyCommands(program, { io });
  adminCommands(program, { io });
  mintCommands(program, { io });
  sandboxCommands(program, { io });
  traceCommand(program, { io });

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(stupsProgram(io), argv, io);
}
