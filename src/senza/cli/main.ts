import { Command } from 'commander';
import { CliError } from '../../platform/cli/cli-error.js';
import { parseOutputFormat } from '../../platform/cli/output.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import { type CommonOptions, SenzaContext, type SenzaDeps } from './context.js';
import type { CreateOptions } from './deploy-commands.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function printFormat(value: string): string {
  if (value !== 'json' && value !== 'yaml')
    throw new CliError(`--output must be json or yaml for print (got "${value}")`, 2);
  return value;
}

/**
 * `senza`: deploy immutable application stacks. One command per entry; each action builds a
 * context for the chosen region and lazily imports its implementation.
 */
export function senzaProgram(deps: SenzaDeps): Command {
  const program = new Command('senza')
    .description('Senza: immutable application stacks on CloudFormation')
    .version('0.1.0');
  const ctx = (options: { region?: string }) => new SenzaContext(deps, options.region);

  const region = (c: Command) =>
    c.option('--region <region>', 'AWS region (default: AWS_REGION or ~/.aws/config)');
  // Checked while the command line is parsed, so a wrong format never costs an AWS call.
  const output = (c: Command) =>
    c.option('-o, --output <format>', 'text, json or tsv', (v: string) => parseOutputFormat(v), 'text');
  const watch = (c: Command) =>
    c
      .option('-W', 'refresh the display every 2 seconds')
      .option('-w, --watch <seconds>', 'refresh every SECONDS');
  const parameterFile = (c: Command) =>
    c
      .option('--parameter-file <file>', 'YAML file with parameter values')
      .option('--force', 'skip the check that the Taupage source image exists');

  region(
    program
      .command('init')
      .description('create a Senza definition from a template (webapp, bgapp, postgresapp)')
      .argument('<definition-file>', 'YAML file to write')
      .option('-t, --template <name>', 'template: webapp, bgapp or postgresapp')
      .option('-v, --user-variable <name=value>', 'answer a template question', collect),
  ).action(async (file: string, o: { region?: string; template?: string; userVariable?: string[] }) =>
    (await import('./init-command.js')).initCommand(ctx(o), file, o),
  );

  parameterFile(
    region(
      program
        .command('print')
        .description('print the generated CloudFormation template')
        .argument('<definition>', 'Senza definition YAML')
        .argument('<version>', 'stack version')
        .argument('[parameter...]', 'parameters: positional or Name=value')
        .option('-o, --output <format>', 'json or yaml', printFormat, 'json'),
    ),
  ).action(
    async (
      file: string,
      version: string,
      params: string[],
      o: { region?: string; output?: string; parameterFile?: string; force?: boolean },
    ) => (await import('./deploy-commands.js')).printCommand(ctx(o), file, version, params, o),
  );

  parameterFile(
    region(
      program
        .command('create')
        .description('create a new CloudFormation stack from a Senza definition')
        .argument('<definition>', 'Senza definition YAML')
        .argument('<version>', 'stack version')
        .argument('[parameter...]', 'parameters: positional or Name=value')
        .option('--disable-rollback', 'keep failed resources for debugging')
        .option('--dry-run', 'only show what would be created')
        .option('--update-if-exists', 'update the stack if it already exists')
        .option('-t, --tag <key=value>', 'tag for the stack', collect)
        .option('--wait', 'wait until the stack is created; fail on ROLLBACK/FAILED')
        .option('--timeout <seconds>', 'with --wait: maximum wait time', '1800'),
    ),
  ).action(async (file: string, version: string, params: string[], o: CreateOptions) =>
    (await import('./deploy-commands.js')).createCommand(ctx(o), file, version, params, o),
  );

  parameterFile(
    region(
      program
        .command('update')
        .description('update an existing CloudFormation stack from a Senza definition')
        .argument('<definition>', 'Senza definition YAML')
        .argument('<version>', 'stack version')
        .argument('[parameter...]', 'parameters: positional or Name=value')
        .option('--disable-rollback', 'keep failed resources for debugging')
        .option('--dry-run', 'only show what would be updated'),
    ),
  ).action(
    async (
      file: string,
      version: string,
      params: string[],
      o: { region?: string; dryRun?: boolean; parameterFile?: string; force?: boolean },
    ) => (await import('./deploy-commands.js')).updateCommand(ctx(o), file, version, params, o),
  );

  const stackRefArg = '[stack-ref...]';
  const stackRefHelp = 'definition file or stack name regex, optionally followed by a version regex';
  watch(
    output(
      region(
        program
          .command('list')
          .description('list CloudFormation stacks')
          .argument(stackRefArg, stackRefHelp)
          .option('--all', 'include deleted stacks'),
      ),
    ),
  ).action(async (refs: string[], o: CommonOptions & { all?: boolean }) =>
    (await import('./info-commands.js')).listCommand(ctx(o), refs, o),
  );
  watch(
    output(
      region(
        program
          .command('status')
          .description('show stack status: instances, health, load balancer')
          .argument(stackRefArg, stackRefHelp),
      ),
    ),
  ).action(async (refs: string[], o: CommonOptions) =>
    (await import('./info-commands.js')).statusCommand(ctx(o), refs, o),
  );
  watch(
    output(
      region(
        program
          .command('events')
          .description('show CloudFormation events')
          .argument(stackRefArg, stackRefHelp),
      ),
    ),
  ).action(async (refs: string[], o: CommonOptions) =>
    (await import('./info-commands.js')).eventsCommand(ctx(o), refs, o),
  );
  watch(
    output(
      region(
        program
          .command('resources')
          .description('show CloudFormation resources')
          .argument(stackRefArg, stackRefHelp),
      ),
    ),
  ).action(async (refs: string[], o: CommonOptions) =>
    (await import('./info-commands.js')).resourcesCommand(ctx(o), refs, o),
  );
  watch(
    output(
      region(
        program
          .command('instances')
          .description('list EC2 instances and IPs')
          .argument(stackRefArg, stackRefHelp)
          .option('--terminated', 'include terminated instances'),
      ),
    ),
  ).action(async (refs: string[], o: CommonOptions & { terminated?: boolean }) =>
    (await import('./info-commands.js')).instancesCommand(ctx(o), refs, o),
  );
  watch(
    region(
      program
        .command('console')
        .description('print EC2 console output of stack instances (or of an IP / instance id)')
        .argument('[instance-or-stack-ref...]', 'IP address, instance id or STACK_REF')
        .option('-l, --limit <lines>', 'lines per instance', '25'),
    ),
  ).action(async (refs: string[], o: CommonOptions & { limit?: string }) =>
    (await import('./info-commands.js')).consoleCommand(ctx(o), refs, o),
  );
  watch(
    output(
      region(
        program
          .command('domains')
          .description("list the stacks' Route53 domains")
          .argument(stackRefArg, stackRefHelp),
      ),
    ),
  ).action(async (refs: string[], o: CommonOptions) =>
    (await import('./info-commands.js')).domainsCommand(ctx(o), refs, o),
  );
  output(
    region(
      program
        .command('traffic')
        .description('show traffic weights, or route PERCENTAGE of the traffic to VERSION')
        .argument('<stack>', 'definition file or stack name')
        .argument('[version]', 'stack version')
        .argument('[percentage]', 'new traffic percentage (0-100) for VERSION'),
    ),
  ).action(
    async (stack: string, version: string | undefined, percentage: string | undefined, o: CommonOptions) =>
      (await import('./traffic-command.js')).trafficCommand(ctx(o), stack, version, percentage, o),
  );
  region(
    program
      .command('wait')
      .description('wait for stack creation (or deletion); non-zero exit on ROLLBACK/FAILED')
      .argument(stackRefArg, stackRefHelp)
      .option('-d, --deletion', 'wait for deletion instead of CREATE_COMPLETE')
      .option('-t, --timeout <seconds>', 'maximum wait time (max 7200)', '1800')
      .option('-i, --interval <seconds>', 'time between checks', '5'),
  ).action(
    async (refs: string[], o: { region?: string; deletion?: boolean; timeout?: string; interval?: string }) =>
      (await import('./deploy-commands.js')).waitForStacks(ctx(o), undefined, { ...o, refArgs: refs }),
  );
  output(
    region(
      program
        .command('images')
        .description('show used AMIs and the available Taupage AMIs')
        .argument(stackRefArg, stackRefHelp)
        .option('--hide-older-than <days>', 'hide unused images older than DAYS', '21')
        .option('--show-instances', 'show instance ids'),
    ),
  ).action(async (refs: string[], o: CommonOptions & { hideOlderThan?: string; showInstances?: boolean }) =>
    (await import('./info-commands.js')).imagesCommand(ctx(o), refs, o),
  );
  region(
    program
      .command('patch')
      .description('patch launch configurations/templates of running stacks')
      .argument('<stack-ref...>', stackRefHelp)
      .option('--image <ami>', 'AMI id or latest, staging, dev')
      .option('--instance-type <type>', 'EC2 instance type')
      .option('--user-data <yaml>', 'Taupage config keys to change, as YAML'),
  ).action(
    async (
      refs: string[],
      o: { region?: string; image?: string; instanceType?: string; userData?: string },
    ) => (await import('./maintenance-commands.js')).patchCommand(ctx(o), refs, o),
  );
  region(
    program
      .command('respawn-instances')
      .description('replace all instances whose launch configuration is out of date, one by one')
      .argument('<stack-ref...>', stackRefHelp)
      .option('--inplace', 'do not scale out first (capacity n instead of n+1)')
      .option('-f, --force', 'respawn every instance, also up-to-date ones'),
  ).action(async (refs: string[], o: { region?: string; inplace?: boolean; force?: boolean }) =>
    (await import('./maintenance-commands.js')).respawnCommand(ctx(o), refs, o),
  );
  region(
    program
      .command('delete')
      .description('delete CloudFormation stacks')
      .argument('<stack-ref...>', stackRefHelp)
      .option('--dry-run', 'only show what would be deleted')
      .option('-f, --force', 'delete several stacks, or stacks with traffic')
      .option('-g, --ignore-non-existent', 'no error when the stack does not exist'),
  ).action(
    async (
      refs: string[],
      o: { region?: string; dryRun?: boolean; force?: boolean; ignoreNonExistent?: boolean },
    ) => (await import('./deploy-commands.js')).deleteCommand(ctx(o), refs, o),
  );
  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  // The SDK warns on every run that its 2027 releases need Node 22: seven lines before every
  // answer. The platform's Node support is documented once (docs/adr/0003); users may re-enable it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = processIo();
  process.exitCode = await runCli(senzaProgram({ io }), argv, io);
}
