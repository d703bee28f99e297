import { type Command, Option } from 'commander';
import { RuleSettingsSchema } from '../../fullstop/settings.js';
import { CliError } from '../../platform/cli/cli-error.js';
import type { ZignDeps } from '../../zign/get-token.js';

/*
 * `stups trace THING`: the traceability chain from an instance, image, digest or application.
 * Service URLs as every stups tool finds them: Pier One `url` in ~/.config/pierone/pierone.yaml
 * (PIERONE_URL), Kio `url` in ~/.config/kio/kio.yaml (KIO_URL), fullstop `fullstop_url` in
 * ~/.config/stups/stups.yaml (STUPS_FULLSTOP_URL), even `even_url` in ~/.config/piu/piu.yaml
 * (PIU_EVEN_URL, only for an instance), the team service `team_service_url` in stups.yaml
 * (STUPS_TEAM_SERVICE_URL, optional: an instance's team); the token the one zign gives; EC2 through the
 * standard AWS settings, in another account through fullstop's read role.
 */

interface TraceOptions {
  output: 'text' | 'json';
  verify?: boolean;
  ticketPattern: string;
  account?: string;
  role: string;
  taupagePrefix?: string;
  taupageOwner?: string[];
  taupageMaxAgeDays?: string;
}

export function traceCommand(program: Command, deps: ZignDeps): void {
  const { io } = deps;
  program
    .command('trace')
    .description(
      'walk the traceability chain: instance → AMI → Taupage config → image → commit → ticket → Kio app → deployments → SSH access → violations',
    )
    .argument(
      '<thing>',
      'instance id (i-…), "stack-name version" (one argument), image reference (host/team/artifact:tag), image digest (sha256:…) or application id',
    )
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .option(
      '--verify',
      "verify provenance signatures with Pier One's key set and the commit against scm-source.json",
    )
    .option('--ticket-pattern <regex>', 'how a ticket looks in a commit message', '[A-Z][A-Z0-9]+-\\d+')
    .option(
      '--account <id>',
      "the AWS account the instance runs in (read through --role; default: the caller's own)",
    )
    .option('--role <name>', 'role assumed to read another account (the read role fullstop uses)', 'fullstop')
    .option('--taupage-prefix <prefix>', "name prefix of Taupage AMIs (fullstop's rules.taupageNamePrefix)")
    .option(
      '--taupage-owner <account...>',
      "accounts owning Taupage AMIs (fullstop's rules.taupageOwners; default: any owner)",
    )
    .option(
      '--taupage-max-age-days <days>',
      "age after which a Taupage AMI is outdated (fullstop's rules.taupageMaxAgeDays)",
    )
    .action(async (thing: string, options: TraceOptions) => {
      const { parseTraceInput, walk } = await import('../../trace/walk.js');
      const input = parseTraceInput(thing);
      if (!input) {
        throw new CliError(
          `"${thing}" is no instance id, image reference, image digest or application id`,
          2,
        );
      }
      let ticketPattern: RegExp;
      try {
        ticketPattern = new RegExp(options.ticketPattern);
      } catch {
        throw new CliError(`--ticket-pattern is not a regular expression: ${options.ticketPattern}`, 2);
      }
      const taupage = taupagePolicy(options);
      const trace = await asUsageError(async () => {
        const [{ serviceClient }, { httpSources }, { awsSettingsFromEnv }, { loadToolConfig }] =
          await Promise.all([
            import('../../platform/cli/service-client.js'),
            import('../../trace/http-sources.js'),
            import('../../platform/aws/client-config.js'),
            import('../../platform/cli/cli-config.js'),
          ]);
        const sources = httpSources({
          pierone: await serviceClient('pierone', 'Pier One', deps),
          kio: await serviceClient('kio', 'Kio', deps),
          fullstop: await serviceClient('stups', 'fullstop', deps, { urlKey: 'fullstop_url' }),
          even: () => serviceClient('piu', 'even', deps, { urlKey: 'even_url' }),
          // Optional: without it the instance's team is not named, the chain is the same.
          teams: async () =>
            (await loadToolConfig('stups', io.env)).team_service_url
              ? serviceClient('stups', 'the team service', deps, { urlKey: 'team_service_url' })
              : undefined,
          aws: awsSettingsFromEnv(io.env),
          account: options.account,
          roleName: options.role,
          credentials: envCredentials(io.env),
        });
        return walk(sources, input, thing, {
          verify: options.verify === true,
          ticketPattern,
          taupage,
          now: new Date(),
        });
      });
      if (options.output === 'json') io.stdout.write(`${JSON.stringify(trace, null, 2)}\n`);
      else io.stdout.write((await import('../../trace/render.js')).renderTraceText(trace));
      if (!trace.whole) throw new CliError('the chain is broken', 1);
    });
}

/** fullstop's defaults for what a current Taupage is, overridden by the flags. */
function taupagePolicy(options: TraceOptions) {
  const defaults = RuleSettingsSchema.parse({});
  const age =
    options.taupageMaxAgeDays === undefined ? defaults.taupageMaxAgeDays : Number(options.taupageMaxAgeDays);
  if (!Number.isInteger(age) || age < 1)
    throw new CliError(
      `--taupage-max-age-days must be a whole number of days: ${options.taupageMaxAgeDays}`,
      2,
    );
  const owners = options.taupageOwner ?? defaults.taupageOwners;
  const bad = owners.find((o) => !/^\d{12}$/.test(o));
  if (bad !== undefined) throw new CliError(`--taupage-owner must be a 12-digit AWS account id: ${bad}`, 2);
  return {
    namePrefix: options.taupagePrefix ?? defaults.taupageNamePrefix,
    owners,
    maxAgeDays: age,
    requireLatest: defaults.taupageRequireLatest,
  };
}

/** Network, configuration and service errors are exit 2: the chain could not be walked at all. */
async function asUsageError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CliError) throw new CliError(error.message, 2);
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
}

/** AWS keys from the CLI's environment, as the SDK's env provider reads them from process.env. */
function envCredentials(env: NodeJS.ProcessEnv) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}) };
}
