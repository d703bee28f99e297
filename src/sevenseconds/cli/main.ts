import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { awsSettingsFromEnv } from '../../platform/aws/client-config.js';
import { loadToolConfig, normaliseUrl } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpClient, timeoutMsFrom } from '../../platform/cli/http-client.js';
import { type CliIo, processIo, runCli } from '../../platform/cli/run-cli.js';
import type { CallRecorder } from '../aws/clients.js';
import { AccountFailure, credentialsFromEnv, standardLogin } from '../aws/login.js';
import { ConfigProblems, type LoadedConfig, loadConfig, selectAccounts } from '../config.js';
import type { AccountConfig } from '../contract.js';
import { convergeAccounts, type Mode } from '../converge.js';
import { configJsonSchemaText } from '../json-schema.js';
import { withTrailBucketPolicies } from '../resources/cloudtrail.js';
import { progressDisplay } from '../progress.js';
import { renderFindings, renderReports } from '../report.js';
import { httpTeamRegistry, type TeamRegistry } from '../team-registration.js';
import { buildTrustGraph, checkTrustGraph } from '../trust-graph.js';

export interface SevenSecondsDeps {
  io: CliIo;
  /** Sees every AWS SDK call (tests prove `plan` changes nothing with it). */
  record?: CallRecorder;
  /** For the team service (tests pass none: the real fetch to an in-process service). */
  fetch?: typeof fetch;
}

/**
 * The team service accounts are registered in: `--team-service-url`, else `team_service_url` in
 * ~/.config/sevenseconds/sevenseconds.yaml or SEVENSECONDS_TEAM_SERVICE_URL. The token is
 * SEVENSECONDS_TOKEN (`token` key) when set, else the one zign gives (`zign token`). Plan
 * needs it too: the team service answers even its reads only to a valid token.
 */
async function teamRegistry(deps: SevenSecondsDeps, flagUrl: string | undefined): Promise<TeamRegistry> {
  const config = await loadToolConfig('sevenseconds', deps.io.env);
  const url = flagUrl ?? config.team_service_url;
  if (!url) {
    throw new CliError(
      'accounts name a team, but no team service is set: --team-service-url or SEVENSECONDS_TEAM_SERVICE_URL',
      2,
    );
  }
  const pinned = config.token;
  return httpTeamRegistry(
    new HttpClient({
      baseUrl: normaliseUrl(url),
      service: 'the team service',
      timeoutMs: timeoutMsFrom(config.timeout, 'SEVENSECONDS_TIMEOUT'),
      timeoutSetting: 'SEVENSECONDS_TIMEOUT',
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      token: async () =>
        pinned ||
        (await import('../../zign/get-token.js')).getToken(
          'default',
          ['uid'],
          {},
          {
            io: deps.io,
            ...(deps.fetch ? { fetch: deps.fetch } : {}),
          },
        ),
    }),
  );
}

/** Reads and checks the file; every problem is printed as `path: message` before any AWS call. */
async function readConfig(io: CliIo, file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return { accounts: withTrailBucketPolicies(loadConfig(text).accounts) };
  } catch (error) {
    if (!(error instanceof ConfigProblems)) throw error;
    for (const problem of error.problems.slice(0, -1)) io.stderr.write(`sevenseconds: ${file}: ${problem}\n`);
    throw new CliError(`${file}: ${error.problems.at(-1)}`);
  }
}

function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new CliError(`${flag} must be a positive whole number (got "${value}")`, 2);
    return Number(value);
  };
}

/**
 * Accounts converged at once when no flag says. The work waits on AWS, not on this machine's
 * CPUs, so the core count is no guide; each account has its own API rate limits, and 8 keeps
 * the one login identity's STS calls and the local sockets modest.
 */
export const DEFAULT_CONCURRENCY = 8;

interface RunFlags {
  concurrency: number;
  /** STUPS' name of --concurrency; wins when given. */
  maxProcs?: number;
  loginAccount?: string;
  output: string;
  dryRun?: boolean;
  teamServiceUrl?: string;
}

async function run(
  deps: SevenSecondsDeps,
  file: string,
  patterns: string[],
  flags: RunFlags,
  mode: Mode,
): Promise<void> {
  const { io } = deps;
  if (!['text', 'json'].includes(flags.output))
    throw new CliError(`--output must be text or json (got "${flags.output}")`, 2);
  const config = await readConfig(io, file);
  let accounts: AccountConfig[];
  try {
    accounts = selectAccounts(config.accounts, patterns.length ? patterns : ['*']);
  } catch (error) {
    if (error instanceof ConfigProblems) throw new CliError(error.problems.join('; '), 2);
    throw error;
  }
  // Checked before any AWS call: a file naming teams needs the team service.
  const teams = accounts.some((a) => a.team) ? await teamRegistry(deps, flags.teamServiceUrl) : undefined;
  const settings = awsSettingsFromEnv(io.env);
  let login;
  try {
    login = await standardLogin(settings, credentialsFromEnv(io.env), deps.record);
  } catch (error) {
    if (error instanceof AccountFailure) throw new CliError(error.message);
    throw error;
  }
  if (flags.loginAccount) {
    const named = config.accounts.find((a) => a.name === flags.loginAccount);
    if (!named) throw new CliError(`--login-account ${flags.loginAccount} is not an account of ${file}`, 2);
    if (named.id !== login.callerAccount) {
      throw new CliError(
        `the credential chain is logged in to ${login.callerAccount}, not ${named.name} (${named.id})`,
      );
    }
  }
  // Progress goes to stderr so the report on stdout stays clean for pipes and --output json.
  const progress = progressDisplay(io.stderr, { total: accounts.length, mode });
  let reports;
  try {
    reports = await convergeAccounts(accounts, {
      mode,
      login,
      concurrency: flags.maxProcs ?? flags.concurrency,
      ...(teams ? { teams } : {}),
      accountNamed: (name) => config.accounts.find((a) => a.name === name),
      onProgress: (account, event, _done, _total, report) => {
        if (report) progress.finish(report);
        else progress.start(account);
      },
    });
  } finally {
    progress.close();
  }
  io.stdout.write(
    flags.output === 'json' ? `${JSON.stringify(reports, null, 2)}\n` : renderReports(reports, mode),
  );
  const failed = reports.filter((r) => r.status === 'failed').length;
  if (failed)
    throw new CliError(`${failed} of ${reports.length} account${reports.length === 1 ? '' : 's'} failed`);
}

/** `sevenseconds`: configure every team account from one file (STUPS Seven Seconds). */
export function sevensecondsProgram(deps: SevenSecondsDeps): Command {
  const { io } = deps;
  const program = new Command('sevenseconds')
    .description('configure AWS accounts from one YAML file')
    .version('0.1.0');
  const common = (command: Command) =>
    command
      .argument('<file>', 'configuration file (version: 10)')
      .argument('[patterns...]', "account name globs, e.g. myaccount or '*' (default: all)")
      .addOption(
        new Option('-c, --concurrency <n>', 'accounts converged at once')
          .argParser(positiveInt('--concurrency'))
          .default(DEFAULT_CONCURRENCY),
      )
      .addOption(
        new Option('-P, --max-procs <n>', "the same as --concurrency (STUPS' name)").argParser(
          positiveInt('--max-procs'),
        ),
      )
      .option(
        '--login-account <name>',
        'the account the credential chain logs in to; every other account is reached by assuming its login_role',
      )
      .option(
        '--team-service-url <url>',
        'team service accounts with a team key are registered in (default: SEVENSECONDS_TEAM_SERVICE_URL)',
      )
      .option('-o, --output <format>', 'text or json', 'text');

  common(
    program
      .command('configure')
      .description(
        'converge every matching account (alias, SAML providers, IAM roles, S3 buckets, VPC, subnets)',
      ),
  )
    .option('--dry-run', 'only show what would change (the same as plan)')
    .action(async (file: string, patterns: string[], flags: RunFlags) => {
      await run(deps, file, patterns, flags, flags.dryRun ? 'plan' : 'configure');
    });

  common(
    program
      .command('plan')
      .description('show what configure would change, per account and resource; changes nothing'),
  ).action(async (file: string, patterns: string[], flags: RunFlags) => {
    await run(deps, file, patterns, flags, 'plan');
  });

  program
    .command('check')
    .description(
      'prove from the generated trust policies that no non-production principal reaches a production role',
    )
    .argument('<file>', 'configuration file')
    .action(async (file: string) => {
      const config = await readConfig(io, file);
      const findings = checkTrustGraph(config.accounts);
      if (findings.length) {
        io.stdout.write(renderFindings(findings));
        throw new CliError(
          `${findings.length} problem${findings.length === 1 ? '' : 's'} in the trust graph of ${file}`,
        );
      }
      const graph = buildTrustGraph(config.accounts);
      const edges = [...graph.edges.values()].reduce((n, e) => n + e.length, 0);
      io.stdout.write(
        `OK: ${graph.principals.length} principals, ${graph.roles.length} roles, ${edges} trust edges; no non-production principal reaches a production role and identities only assume roles\n`,
      );
    });

  program
    .command('schema')
    .description('print the JSON Schema of the configuration file (for editors)')
    .action(() => {
      io.stdout.write(configJsonSchemaText());
    });

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(sevensecondsProgram({ io }), argv, io);
}
