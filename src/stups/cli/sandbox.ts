import type { Command } from 'commander';
import { z } from 'zod';
import { CliError } from '../../platform/cli/cli-error.js';
import type { HttpClient } from '../../platform/cli/http-client.js';
import { type Column, parseOutputFormat, renderObject, renderRows } from '../../platform/cli/output.js';
import type { SandboxAccountView } from '../../sandbox/contract.js';
import type { ZignDeps } from '../../zign/get-token.js';

/*
 * `stups sandbox list|show|assign|release|purge|tags`: personal sandbox accounts. The service's URL is
 * `sandbox_url` in ~/.config/stups/stups.yaml (`stups configure`, or STUPS_SANDBOX_URL).
 */

const OUTPUT = ['-o, --output <format>', 'text, json or tsv', 'text'] as const;

const ACCOUNT_COLUMNS: Column<SandboxAccountView>[] = [
  { title: 'Id', key: 'id', value: (a) => a.id },
  { title: 'Name', key: 'name', value: (a) => a.name },
  { title: 'OU', key: 'organizational_unit', value: (a) => a.organizational_unit_name },
  { title: 'State', key: 'state', value: (a) => a.state },
  { title: 'Holder', key: 'holder', value: (a) => a.holder },
  { title: 'Budget', key: 'budget_amount', value: (a) => a.budget_amount },
  { title: 'Spent', key: 'month_to_date', value: (a) => a.month_to_date },
  { title: 'Cost centre', key: 'cost_center', value: (a) => a.cost_center },
  { title: 'Last purge', key: 'last_purge', value: (a) => a.last_purge },
];

export function sandboxCommands(program: Command, deps: ZignDeps): void {
  const { io } = deps;
  // Loaded when a command runs: `stups --help` stays fast.
  const client = async (): Promise<HttpClient> =>
    (await import('../../platform/cli/service-client.js')).serviceClient('stups', 'sandbox', deps, {
      urlKey: 'sandbox_url',
    });
  const contract = () => import('../../sandbox/contract.js');
  const accountPath = async (id: string) => {
    const { AccountIdSchema } = await contract();
    // Checked here: a typo should not cost a round trip and a 400 about a path.
    if (!AccountIdSchema.safeParse(id).success) throw new CliError(`${id} is not a 12-digit AWS account id`);
    return `/accounts/${id}`;
  };
  const showAccount = async (account: unknown, format: string) => {
    const { SandboxAccountViewSchema } = await contract();
    const parsed = SandboxAccountViewSchema.parse(account);
    const output = parseOutputFormat(format);
    const { tags, state_timestamps, ...rest } = parsed;
    io.stdout.write(
      renderObject(
        output === 'json'
          ? parsed
          : { ...rest, tags: JSON.stringify(tags), state_timestamps: JSON.stringify(state_timestamps) },
        output,
      ),
    );
  };

  const sandbox = program.command('sandbox').description('personal AWS sandbox accounts');

  sandbox
    .command('list')
    .description('list accounts (filters: state, organizational unit, holder)')
    .option('-s, --state <state>', 'vanilla, assigned, released, expired, purged or prepared')
    .option('--ou <ou>', 'organizational unit id (ou-…) or name')
    .option('--holder <uid>', "a holder's user id")
    .option('--mine', 'only the account you hold')
    .option(...OUTPUT)
    .action(
      async (options: { state?: string; ou?: string; holder?: string; mine?: boolean; output: string }) => {
        const { AccountStateSchema, SandboxAccountViewSchema } = await contract();
        const format = parseOutputFormat(options.output);
        if (options.state !== undefined && !AccountStateSchema.safeParse(options.state).success) {
          throw new CliError(
            `--state must be one of ${AccountStateSchema.options.join(', ')}, not "${options.state}"`,
          );
        }
        if (options.mine && options.holder) throw new CliError('--mine and --holder exclude each other');
        const query = new URLSearchParams();
        if (options.state) query.set('state', options.state);
        if (options.ou) query.set('ou', options.ou);
        const holder = options.mine ? await myUid(deps) : options.holder;
        if (holder) query.set('holder', holder);
        const accounts = await (
          await client()
        ).parsed(
          z.array(SandboxAccountViewSchema),
          'a list of accounts',
          'GET',
          `/accounts${query.size ? `?${query}` : ''}`,
        );
        io.stdout.write(renderRows(accounts, ACCOUNT_COLUMNS, format));
      },
    );

  sandbox
    .command('show')
    .description('show one account: state, holder, budget, spend, last purge')
    .argument('<account>', 'AWS account id')
    .option(...OUTPUT)
    .action(async (id: string, options: { output: string }) => {
      parseOutputFormat(options.output);
      const { SandboxAccountViewSchema } = await contract();
      const account = await (
        await client()
      ).parsed(SandboxAccountViewSchema, 'an account', 'GET', await accountPath(id));
      await showAccount(account, options.output);
    });

  sandbox
    .command('assign')
    .description('give a vanilla or released account to a platform user (yourself unless --to)')
    .argument('<account>', 'AWS account id')
    .option('--to <uid>', 'the platform user who gets it (administrators)')
    .option(...OUTPUT)
    .action(async (id: string, options: { to?: string; output: string }) => {
      parseOutputFormat(options.output);
      const { SandboxAccountViewSchema } = await contract();
      const holder = options.to ?? (await myUid(deps));
      const account = await (
        await client()
      ).parsed(SandboxAccountViewSchema, 'an account', 'POST', `${await accountPath(id)}/assign`, { holder });
      await showAccount(account, options.output);
    });

  sandbox
    .command('release')
    .description('give an account back; the next maintenance window purges it')
    .argument('<account>', 'AWS account id')
    .option(...OUTPUT)
    .action(async (id: string, options: { output: string }) => {
      parseOutputFormat(options.output);
      const { SandboxAccountViewSchema } = await contract();
      const account = await (
        await client()
      ).parsed(SandboxAccountViewSchema, 'an account', 'POST', `${await accountPath(id)}/release`);
      await showAccount(account, options.output);
    });

  sandbox
    .command('purge')
    .description('list what a purge would delete (--dry-run), or delete it (--force, administrators)')
    .argument('<account>', 'AWS account id')
    .option('--dry-run', 'list only; change nothing')
    .option('--force', 'delete (expired accounts, when the installation allows it)')
    .option(...OUTPUT)
    .action(async (id: string, options: { dryRun?: boolean; force?: boolean; output: string }) => {
      const format = parseOutputFormat(options.output);
      // Deleting is never the default: one of the two must be said.
      if (options.dryRun === options.force)
        throw new CliError('give exactly one of --dry-run and --force', 2);
      const { PurgeResultSchema } = await contract();
      const result = await (
        await client()
      ).parsed(
        PurgeResultSchema,
        'a purge result',
        'POST',
        `${await accountPath(id)}/purge?dry_run=${options.dryRun ? 'true' : 'false'}`,
      );
      const rows = [
        ...result.deleted.map((item) => ({ ...item, action: result.dry_run ? 'would delete' : 'deleted' })),
        ...result.kept.map((item) => ({ ...item, action: 'kept' })),
      ];
      io.stdout.write(
        renderRows(
          rows,
          [
            { title: 'Action', key: 'action', value: (r) => r.action },
            { title: 'Kind', key: 'kind', value: (r) => r.kind },
            { title: 'Id', key: 'id', value: (r) => r.id },
            { title: 'Region', key: 'region', value: (r) => r.region },
          ],
          format,
        ),
      );
      if (format === 'text') {
        io.stderr.write(
          `${result.dry_run ? 'Dry run: nothing was changed' : 'Purged'} (${result.deleted.length} ${result.dry_run ? 'to delete' : 'deleted'}, ${result.kept.length} kept).\n`,
        );
      }
    });

  const tags = sandbox.command('tags').description('account tags as CSV (account, then one column per tag)');

  tags
    .command('export')
    .description('write every account’s tags as CSV to stdout')
    .action(async () => {
      const http = await client();
      const response = await http.request('GET', '/tags', undefined, { accept: 'text/csv' });
      const body = await http.readText(response);
      if (!response.ok) throw new CliError(`sandbox answered ${response.status}: ${problemDetail(body)}`);
      io.stdout.write(body);
    });

  tags
    .command('import')
    .description('set account tags from a CSV file (administrators); empty cells change nothing')
    .argument('<file>', 'CSV file: the column account, then one column per tag key')
    .option('--dry-run', 'report what would change; change nothing')
    .option(...OUTPUT)
    .action(async (file: string, options: { dryRun?: boolean; output: string }) => {
      const format = parseOutputFormat(options.output);
      const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
      let csv: string;
      try {
        csv = await fs.readFile(path.resolve(io.cwd, file), 'utf8');
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      const { TagImportResultSchema } = await contract();
      const http = await client();
      const response = await http.request('POST', `/tags?dry_run=${options.dryRun ? 'true' : 'false'}`, csv, {
        'content-type': 'text/csv',
      });
      const body = await http.readText(response);
      if (!response.ok) {
        // Every bad row at once, each with its line in the file, then the one-line error.
        for (const problem of problemErrors(body))
          io.stderr.write(`${file}:${problem.line}: ${problem.message}\n`);
        throw new CliError(`sandbox answered ${response.status}: ${problemDetail(body)}`);
      }
      const parsed = TagImportResultSchema.safeParse(JSON.parse(body));
      if (!parsed.success) throw new CliError('sandbox answered with something that is not an import result');
      const result = parsed.data;
      const rows = result.changes.flatMap((c) =>
        Object.entries(c.tags).map(([key, value]) => ({ account: c.account_id, key, value })),
      );
      io.stdout.write(
        renderRows(
          rows,
          [
            { title: 'Account', key: 'account', value: (r) => r.account },
            { title: 'Tag', key: 'key', value: (r) => r.key },
            { title: 'Value', key: 'value', value: (r) => r.value },
          ],
          format,
        ),
      );
      if (format === 'text') {
        io.stderr.write(
          `${result.dry_run ? 'Dry run: nothing was changed' : 'Imported'} (${result.rows} rows, ${result.changes.length} accounts ${result.dry_run ? 'to change' : 'changed'}).\n`,
        );
      }
    });
}

function problemBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function problemDetail(body: string): string {
  const detail = problemBody(body).detail;
  return typeof detail === 'string' ? detail : body.trim().split('\n')[0]!.slice(0, 300) || 'request failed';
}

function problemErrors(body: string): { line: number; message: string }[] {
  const errors = problemBody(body).errors;
  if (!Array.isArray(errors)) return [];
  return (errors as unknown[]).flatMap((e) => {
    const { line, message } = (e ?? {}) as { line?: unknown; message?: unknown };
    return typeof line === 'number' && typeof message === 'string' ? [{ line, message }] : [];
  });
}

/**
 * The uid of the token zign gives (its `sub`), for "my account". Read, not verified: it only
 * chooses what to ask; the service checks the token itself.
 */
async function myUid(deps: ZignDeps): Promise<string> {
  const [{ getToken }, { decodeJwt }] = await Promise.all([
    import('../../zign/get-token.js'),
    import('jose'),
  ]);
  const token = await getToken('default', ['uid'], {}, deps);
  let sub: unknown;
  try {
    sub = decodeJwt(token).sub;
  } catch {
    sub = undefined;
  }
  if (typeof sub !== 'string')
    throw new CliError('cannot tell who you are from your token: give --to or --holder');
  return sub;
}
