import type { Command } from 'commander';
import { CliError } from '../../platform/cli/cli-error.js';
import type { HttpClient } from '../../platform/cli/http-client.js';
import { parseOutputFormat, renderObject } from '../../platform/cli/output.js';
import type { ZignDeps } from '../../zign/get-token.js';

/*
 * `stups mint show|configure|renew APP`: an application's mint configuration and rotation status.
 * mint's URL is `mint_url` in ~/.config/stups/stups.yaml (`stups configure`, or STUPS_MINT_URL);
 * the token the one zign gives. Credentials are never shown: they live in the buckets only.
 */

const OUTPUT = ['-o, --output <format>', 'text, json or tsv', 'text'] as const;
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const list = (values: string[] | undefined) => values?.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

export function mintCommands(program: Command, deps: ZignDeps): void {
  const { io } = deps;
  // Loaded when a command runs: `stups --help` stays fast.
  const client = async (): Promise<HttpClient> =>
    (await import('../../platform/cli/service-client.js')).serviceClient('stups', 'mint', deps, {
      urlKey: 'mint_url',
    });
  const contract = () => import('../../mint/contract.js');
  const appPath = (app: string) => `/apps/${encodeURIComponent(app)}`;

  const show = async (app: unknown, format: string) => {
    const { MintAppSchema } = await contract();
    const parsed = MintAppSchema.parse(app);
    const output = parseOutputFormat(format);
    const view =
      output === 'json'
        ? parsed
        : { ...parsed, scopes: parsed.scopes.map((s) => `${s.resource_type_id}.${s.scope_id}`) };
    io.stdout.write(renderObject(view, output));
  };

  const mint = program
    .command('mint')
    .description("applications' OAuth credentials, rotated into their buckets");

  mint
    .command('show')
    .description('show the mint configuration and rotation status of an application')
    .argument('<app>', 'Kio application id')
    .option(...OUTPUT)
    .action(async (app: string, options: { output: string }) => {
      const { MintAppSchema } = await contract();
      await show(
        await (await client()).parsed(MintAppSchema, 'a mint configuration', 'GET', appPath(app)),
        options.output,
      );
    });

  mint
    .command('configure')
    .description('create or change the mint configuration of an application (what is not given stays)')
    .argument('<app>', 'Kio application id')
    .option(
      '-b, --bucket <bucket>',
      'a bucket the credentials are written to (repeatable; replaces the list)',
      collect,
    )
    .option('-s, --scope <scope>', 'a scope as resource_type.scope (repeatable; replaces the list)', collect)
    .option('--confidential', 'a confidential client (with a secret; the default)')
    .option('--public', 'a public client (no secret; client.json has a null secret)')
    .option('-r, --redirect-url <url>', 'the https redirect URL of the client ("" removes it)')
    .option(...OUTPUT)
    .action(
      async (
        app: string,
        options: {
          bucket?: string[];
          scope?: string[];
          confidential?: boolean;
          public?: boolean;
          redirectUrl?: string;
          output: string;
        },
      ) => {
        if (options.confidential && options.public)
          throw new CliError('--confidential and --public exclude each other');
        const { MintAppSchema } = await contract();
        const http = await client();
        const existing = await http.request('GET', appPath(app));
        await http.readText(existing);
        const current =
          existing.status === 404
            ? undefined
            : await http.parsed(MintAppSchema, 'a mint configuration', 'GET', appPath(app));
        const scopes = list(options.scope)?.map((scope) => {
          const dot = scope.lastIndexOf('.');
          if (dot <= 0 || dot === scope.length - 1) {
            throw new CliError(`scope ${scope} is not resource_type.scope (e.g. sales_order.read)`);
          }
          return { resource_type_id: scope.slice(0, dot), scope_id: scope.slice(dot + 1) };
        });
        const buckets = list(options.bucket) ?? current?.s3_buckets;
        if (!buckets?.length) throw new CliError(`a new mint configuration needs at least one --bucket`);
        const body = {
          s3_buckets: buckets,
          scopes: scopes ?? current?.scopes ?? [],
          is_client_confidential: options.public
            ? false
            : options.confidential
              ? true
              : (current?.is_client_confidential ?? true),
          redirect_url: options.redirectUrl ?? current?.redirect_url ?? null,
        };
        await show(
          await http.parsed(MintAppSchema, 'a mint configuration', 'PUT', appPath(app), body),
          options.output,
        );
      },
    );

  mint
    .command('renew')
    .description('reset the error counter and rotate the credentials on the next worker run')
    .argument('<app>', 'Kio application id')
    .option(
      '--credentials <which>',
      "password (the service user's), client (the client secret) or both",
      'both',
    )
    .option(...OUTPUT)
    .action(async (app: string, options: { credentials: string; output: string }) => {
      const { MintAppSchema, RenewalCredentialsSchema } = await contract();
      // Checked here too: a typo must not fall back to the server's default and rotate both.
      const which = RenewalCredentialsSchema.safeParse(options.credentials);
      if (!which.success) {
        throw new CliError(`--credentials must be password, client or both, not "${options.credentials}"`);
      }
      const query = new URLSearchParams({ credentials: which.data });
      const renewed = await (
        await client()
      ).parsed(MintAppSchema, 'a mint configuration', 'POST', `${appPath(app)}/renewal?${query}`);
      await show(renewed, options.output);
      if (parseOutputFormat(options.output) === 'text') {
        const what = { both: 'both credentials', password: 'the password', client: 'the client secret' };
        io.stderr.write(`Renewal of ${app} requested (${what[which.data]}).\n`);
      }
    });
}
