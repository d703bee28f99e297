import type { Command } from 'commander';
import { CliError } from '../../platform/cli/cli-error.js';
import { lazy } from '../../platform/cli/lazy.js';
import type { HttpClient } from '../../platform/cli/http-client.js';
import { type Column, parseOutputFormat, renderObject, renderRows } from '../../platform/cli/output.js';
import type { ZignDeps } from '../../zign/get-token.js';
import type { ClientView, ServiceUserView } from './admin-schemas.js';

/*
 * `stups service-user …` and `stups oauth-client …`: the token service's admin API (for platform
 * administrators) on the command line. The token service URL is zign's (`stups configure`,
 * `ZIGN_URL`), the token the one zign gives. A generated password or secret is printed once, or
 * with `--write-credentials DIR` written to mint's CREDENTIALS_DIR files instead (mode 0600).
 */

const OUTPUT = ['-o, --output <format>', 'text, json or tsv', 'text'] as const;
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
/** `-s a -s b` and `-s "a b"` / `-s a,b` alike. */
const scopeList = (values: string[] | undefined) => values?.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);

const USER_COLUMNS: Column<ServiceUserView>[] = [
  { title: 'Name', key: 'username', value: (u) => u.username },
  { title: 'Application', key: 'application_id', value: (u) => u.application_id },
  { title: 'Team', key: 'team_id', value: (u) => u.team_id },
  { title: 'Scopes', key: 'scopes', value: (u) => u.scopes },
  { title: 'Disabled', key: 'disabled', value: (u) => u.disabled },
];
const CLIENT_COLUMNS: Column<ClientView>[] = [
  { title: 'Client', key: 'client_id', value: (c) => c.client_id },
  { title: 'Type', key: 'type', value: (c) => c.type },
  { title: 'Realms', key: 'realms', value: (c) => c.realms },
  { title: 'Grants', key: 'grant_types', value: (c) => c.grant_types },
  { title: 'Scopes', key: 'scopes', value: (c) => c.scopes ?? '(any)' },
  { title: 'Disabled', key: 'disabled', value: (c) => c.disabled },
];

export function adminCommands(program: Command, deps: ZignDeps): void {
  const { io } = deps;
  // Loaded when a command runs, not when `stups` starts: zod, jose and the HTTP client cost more
  // start-up time than every other stups command together.
  const serviceClient = lazy(() => import('../../platform/cli/service-client.js'));
  const client = async (): Promise<HttpClient> =>
    (await serviceClient()).serviceClient('zign', 'the token service', deps);
  const schemas = lazy(() => import('./admin-schemas.js'));
  const credentials = lazy(() => import('../credentials-dir.js'));
  const path = (base: string, id: string, suffix = '') => `${base}/${encodeURIComponent(id)}${suffix}`;

  /** Prints the object; a secret either goes into DIR (and not to the terminal) or is printed once. */
  const answer = async (
    value: Record<string, unknown>,
    format: string,
    secret: { key: string; write: (dir: string, value: string) => Promise<string> },
    dir: string | undefined,
  ) => {
    const output = parseOutputFormat(format);
    const shown = { ...value };
    const secretValue = value[secret.key];
    if (dir !== undefined && typeof secretValue === 'string') {
      delete shown[secret.key];
      io.stdout.write(renderObject(shown, output));
      io.stderr.write(`Wrote ${await secret.write(dir, secretValue)}\n`);
      return;
    }
    io.stdout.write(renderObject(shown, output));
    if (typeof secretValue === 'string' && output === 'text') {
      io.stderr.write(`The ${secret.key.replace('_', ' ')} is shown only this once.\n`);
    }
  };

  // --- service users ---
  const users = program
    .command('service-user')
    .alias('su')
    .description('service users of the /services realm (platform administrators)');
  const usersPath = '/admin/service-users';
  const userAnswer = (user: ServiceUserView, format: string, dir?: string) =>
    answer(
      user,
      format,
      {
        key: 'password',
        write: async (d, password) => (await credentials()).writeUserCredentials(d, user.username, password),
      },
      dir,
    );
  const fetchUser = async (method: string, url: string, body?: unknown) =>
    (await client()).parsed((await schemas()).ServiceUserSchema, 'a service user', method, url, body);

  users
    .command('list')
    .description('list service users')
    .option(...OUTPUT)
    .action(async (options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const list = await (
        await client()
      ).parsed((await schemas()).ServiceUserSchema.array(), 'a list of service users', 'GET', usersPath);
      io.stdout.write(renderRows(list, USER_COLUMNS, format));
    });

  users
    .command('show')
    .description('show one service user')
    .argument('<name>', 'service user name, e.g. stups_hello-world')
    .option(...OUTPUT)
    .action(async (name: string, options: { output: string }) => {
      await userAnswer(await fetchUser('GET', path(usersPath, name)), options.output);
    });

  users
    .command('create')
    .description('create a service user with a generated password (shown once)')
    .argument('<name>', 'service user name, e.g. stups_hello-world')
    .requiredOption('-a, --application <id>', 'the Kio application it acts for')
    .option('-t, --team <team>', 'its team (informative; authorisation asks Kio for the application’s team)')
    .option('-s, --scope <scope>', 'a scope it may request (repeatable)', collect)
    .option(
      '--write-credentials <dir>',
      'write user.json for CREDENTIALS_DIR instead of printing the password',
    )
    .option(...OUTPUT)
    .action(
      async (
        name: string,
        options: {
          application: string;
          team?: string;
          scope?: string[];
          writeCredentials?: string;
          output: string;
        },
      ) => {
        parseOutputFormat(options.output);
        const user = await fetchUser('POST', usersPath, {
          username: name,
          application_id: options.application,
          team_id: options.team ?? null,
          scopes: scopeList(options.scope) ?? [],
        });
        await userAnswer(user, options.output, options.writeCredentials);
      },
    );

  users
    .command('update')
    .description('change application, team or scopes (scopes given replace the current ones)')
    .argument('<name>', 'service user name')
    .option('-a, --application <id>', 'the Kio application it acts for')
    .option('-t, --team <team>', 'its team')
    .option('-s, --scope <scope>', 'a scope it may request (repeatable; replaces the list)', collect)
    .option('--enable', 'enable a disabled service user')
    .option(...OUTPUT)
    .action(
      async (
        name: string,
        options: { application?: string; team?: string; scope?: string[]; enable?: boolean; output: string },
      ) => {
        parseOutputFormat(options.output);
        const change = {
          ...(options.application !== undefined ? { application_id: options.application } : {}),
          ...(options.team !== undefined ? { team_id: options.team } : {}),
          ...(options.scope !== undefined ? { scopes: scopeList(options.scope) } : {}),
          ...(options.enable ? { disabled: false } : {}),
        };
        if (Object.keys(change).length === 0) {
          throw new CliError('nothing to change: give --application, --team, --scope or --enable', 2);
        }
        await userAnswer(await fetchUser('PATCH', path(usersPath, name), change), options.output);
      },
    );

  users
    .command('rotate')
    .description('give a service user a new generated password (the old one stops working)')
    .argument('<name>', 'service user name')
    .option(
      '--write-credentials <dir>',
      'write user.json for CREDENTIALS_DIR instead of printing the password',
    )
    .option(...OUTPUT)
    .action(async (name: string, options: { writeCredentials?: string; output: string }) => {
      parseOutputFormat(options.output);
      const user = await fetchUser('POST', path(usersPath, name, '/password'));
      await userAnswer(user, options.output, options.writeCredentials);
    });

  users
    .command('disable')
    .description('disable a service user: its password and tokens stop working')
    .argument('<name>', 'service user name')
    .action(async (name: string) => {
      await fetchUser('POST', path(usersPath, name, '/disable'));
      io.stdout.write(`Disabled service user ${name}.\n`);
    });

  users
    .command('delete')
    .description('delete a service user')
    .argument('<name>', 'service user name')
    .action(async (name: string) => {
      await (await client()).json('DELETE', path(usersPath, name));
      io.stdout.write(`Deleted service user ${name}.\n`);
    });

  // --- OAuth clients ---
  const clients = program
    .command('oauth-client')
    .alias('client')
    .description('OAuth clients of the token service (platform administrators)');
  const clientsPath = '/admin/clients';
  const clientAnswer = (value: ClientView, format: string, dir?: string) =>
    answer(
      value,
      format,
      {
        key: 'client_secret',
        write: async (d, secret) => (await credentials()).writeClientCredentials(d, value.client_id, secret),
      },
      dir,
    );
  const fetchClient = async (method: string, url: string, body?: unknown) =>
    (await client()).parsed((await schemas()).ClientSchema, 'an OAuth client', method, url, body);

  clients
    .command('list')
    .description('list OAuth clients')
    .option(...OUTPUT)
    .action(async (options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const list = await (
        await client()
      ).parsed((await schemas()).ClientSchema.array(), 'a list of OAuth clients', 'GET', clientsPath);
      io.stdout.write(renderRows(list, CLIENT_COLUMNS, format));
    });

  clients
    .command('show')
    .description('show one OAuth client')
    .argument('<client-id>', 'client id')
    .option(...OUTPUT)
    .action(async (id: string, options: { output: string }) => {
      await clientAnswer(await fetchClient('GET', path(clientsPath, id)), options.output);
    });

  clients
    .command('create')
    .description('create an OAuth client; a confidential one gets a generated secret (shown once)')
    .argument('<client-id>', 'client id')
    .option('--public', 'a public client (no secret, e.g. a CLI or browser app)')
    .option('-r, --realm <realm>', 'employees or services (repeatable; default services)', collect)
    .option(
      '-g, --grant <grant>',
      'a grant type it may use (repeatable; default password, client_credentials)',
      collect,
    )
    .option('-u, --redirect-uri <uri>', 'a redirect URI (repeatable)', collect)
    .option(
      '-s, --scope <scope>',
      'a scope it may request (repeatable; default: whatever the realm allows)',
      collect,
    )
    .option('-n, --name <name>', 'display name')
    .option(
      '--write-credentials <dir>',
      'write client.json for CREDENTIALS_DIR instead of printing the secret',
    )
    .option(...OUTPUT)
    .action(
      async (
        id: string,
        options: {
          public?: boolean;
          realm?: string[];
          grant?: string[];
          redirectUri?: string[];
          scope?: string[];
          name?: string;
          writeCredentials?: string;
          output: string;
        },
      ) => {
        parseOutputFormat(options.output);
        const created = await fetchClient('POST', clientsPath, {
          client_id: id,
          type: options.public ? 'public' : 'confidential',
          ...(options.realm ? { realms: options.realm } : {}),
          ...(options.grant ? { grant_types: options.grant } : {}),
          ...(options.redirectUri ? { redirect_uris: options.redirectUri } : {}),
          ...(options.scope ? { scopes: scopeList(options.scope) } : {}),
          ...(options.name ? { name: options.name } : {}),
        });
        await clientAnswer(created, options.output, options.writeCredentials);
      },
    );

  clients
    .command('update')
    .description(
      'change grant types, redirect URIs, scopes, realms or name (lists given replace the current ones)',
    )
    .argument('<client-id>', 'client id')
    .option('-r, --realm <realm>', 'employees or services (repeatable)', collect)
    .option('-g, --grant <grant>', 'a grant type (repeatable)', collect)
    .option('-u, --redirect-uri <uri>', 'a redirect URI (repeatable)', collect)
    .option('-s, --scope <scope>', 'a scope it may request (repeatable)', collect)
    .option('--any-scope', 'let it request whatever the realm allows')
    .option('-n, --name <name>', 'display name')
    .option('--enable', 'enable a disabled client')
    .option(...OUTPUT)
    .action(
      async (
        id: string,
        options: {
          realm?: string[];
          grant?: string[];
          redirectUri?: string[];
          scope?: string[];
          anyScope?: boolean;
          name?: string;
          enable?: boolean;
          output: string;
        },
      ) => {
        parseOutputFormat(options.output);
        if (options.scope && options.anyScope) throw new CliError('give --scope or --any-scope, not both', 2);
        const change = {
          ...(options.realm ? { realms: options.realm } : {}),
          ...(options.grant ? { grant_types: options.grant } : {}),
          ...(options.redirectUri ? { redirect_uris: options.redirectUri } : {}),
          ...(options.scope ? { scopes: scopeList(options.scope) } : {}),
          ...(options.anyScope ? { scopes: null } : {}),
          ...(options.name ? { name: options.name } : {}),
          ...(options.enable ? { disabled: false } : {}),
        };
        if (Object.keys(change).length === 0) throw new CliError('nothing to change', 2);
        await clientAnswer(await fetchClient('PATCH', path(clientsPath, id), change), options.output);
      },
    );

  clients
    .command('rotate')
    .description('give a confidential client a new generated secret (the old one stops working)')
    .argument('<client-id>', 'client id')
    .option(
      '--write-credentials <dir>',
      'write client.json for CREDENTIALS_DIR instead of printing the secret',
    )
    .option(...OUTPUT)
    .action(async (id: string, options: { writeCredentials?: string; output: string }) => {
      parseOutputFormat(options.output);
      const rotated = await fetchClient('POST', path(clientsPath, id, '/secret'));
      await clientAnswer(rotated, options.output, options.writeCredentials);
    });

  clients
    .command('disable')
    .description('disable a client: it can no longer authenticate')
    .argument('<client-id>', 'client id')
    .action(async (id: string) => {
      await fetchClient('POST', path(clientsPath, id, '/disable'));
      io.stdout.write(`Disabled client ${id}.\n`);
    });

  clients
    .command('delete')
    .description('delete a client')
    .argument('<client-id>', 'client id')
    .action(async (id: string) => {
      await (await client()).json('DELETE', path(clientsPath, id));
      io.stdout.write(`Deleted client ${id}.\n`);
    });
}
