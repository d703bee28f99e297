import { Command } from 'commander';
import { z } from 'zod';
import { normaliseUrl, saveToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpError } from '../../platform/cli/http-client.js';
import {
  type Column,
  parseOutputFormat,
  relativeTime,
  renderObject,
  renderRows,
} from '../../platform/cli/output.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import { serviceClient } from '../../platform/cli/service-client.js';
import type { ZignDeps } from '../../zign/get-token.js';
import {
  type ApplicationChange,
  ApplicationChangeSchema,
  ApplicationDetailSchema,
  ApplicationSchema,
  ApplicationSearchHitSchema,
  APPLICATION_ID_PATTERN,
  EDITABLE_FIELDS,
  type EditableField,
  HISTORY_MAX_LIMIT,
} from '../contract.js';

/** `GET /apps` answers search hits when searching, plain applications otherwise. */
const AppListSchema = z.array(z.union([ApplicationSearchHitSchema, ApplicationSchema]));
type Hit = z.output<typeof AppListSchema>[number];

const BOOLEAN_FIELDS = new Set<EditableField>(['active', 'publicly_accessible']);
const NUMBER_FIELDS = new Set<EditableField>(['criticality_level', 'required_approvers']);
const SERVER_FIELDS = ['id', 'created', 'created_by', 'last_modified', 'last_modified_by'];
/**
 * An application as `update` reads it: any JSON object. Fields this client does not know are sent
 * back as they came (the original client does the same), so they are not checked one by one.
 */
const StoredApplicationSchema = z.record(z.string(), z.unknown());

/** `key=value` pairs for `create`/`update`, typed by field; unknown keys are usage errors. */
export function parseAssignments(pairs: readonly string[]): Partial<Record<EditableField, unknown>> {
  const result: Partial<Record<EditableField, unknown>> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`expected key=value, got "${pair}"`, 2);
    const key = pair.slice(0, eq) as EditableField;
    const raw = pair.slice(eq + 1);
    if (!(EDITABLE_FIELDS as readonly string[]).includes(key)) {
      throw new CliError(`unknown field "${key}"; fields: ${EDITABLE_FIELDS.join(', ')}`, 2);
    }
    if (BOOLEAN_FIELDS.has(key)) {
      if (raw !== 'true' && raw !== 'false') throw new CliError(`${key} must be true or false`, 2);
      result[key] = raw === 'true';
    } else if (NUMBER_FIELDS.has(key)) {
      if (!/^\d+$/.test(raw)) throw new CliError(`${key} must be a whole number`, 2);
      result[key] = Number(raw);
    } else {
      // An empty value clears an optional field.
      result[key] = raw === '' ? '' : raw;
    }
  }
  return result;
}

function checkId(id: string): string {
  if (!APPLICATION_ID_PATTERN.test(id)) {
    throw new CliError(`invalid application id "${id}": lowercase letters, digits and dashes`, 2);
  }
  return id;
}

const plain = (html: string | undefined) =>
  html
    ?.replace(/<\/?b>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** `kio`: the application registry on the command line. */
export function kioProgram(deps: ZignDeps): Command {
  const { io } = deps;
  const client = () => serviceClient('kio', 'Kio', deps);
  const program = new Command('kio').description('Kio application registry').version('0.1.0');

  program
    .command('configure')
    .description('set the Kio URL (~/.config/kio/kio.yaml); "stups configure" sets all tools at once')
    .requiredOption('--url <url>', 'Kio base URL')
    .action(async (options: { url: string }) => {
      io.stdout.write(`Saved ${await saveToolConfig('kio', io.env, { url: normaliseUrl(options.url) })}\n`);
    });

  const app = program.command('application').alias('app').description('register and change applications');

  app
    .command('list')
    .description('list active applications (all with --all)')
    .option('-t, --team <team>', 'only this team')
    .option('-s, --search <query>', 'full-text search over id, name, subtitle and description')
    .option('-a, --all', 'include inactive applications')
    .option('--since <time>', 'only changed since this ISO time')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(
      async (options: { team?: string; search?: string; all?: boolean; since?: string; output: string }) => {
        const format = parseOutputFormat(options.output);
        if (options.since && Number.isNaN(Date.parse(options.since))) {
          throw new CliError(`--since must be an ISO time, e.g. 2026-01-31T00:00:00Z`, 2);
        }
        const query = new URLSearchParams();
        if (options.team) query.set('team_id', options.team);
        if (options.search) query.set('search', options.search);
        if (options.since) query.set('modified_after', new Date(options.since).toISOString());
        const apps = await (
          await client()
        ).parsed(AppListSchema, 'an application list', 'GET', `/apps${query.size ? `?${query}` : ''}`);
        const shown = options.all ? apps : apps.filter((a) => a.active);
        const columns: Column<Hit>[] = [
          { title: 'Id', key: 'id', value: (a) => a.id },
          { title: 'Team', key: 'team_id', value: (a) => a.team_id },
          { title: 'Name', key: 'name', value: (a) => a.name },
          { title: 'Active', key: 'active', value: (a) => a.active },
          {
            title: 'Modified',
            key: 'last_modified',
            value: (a) => (format === 'text' ? relativeTime(new Date(a.last_modified)) : a.last_modified),
          },
        ];
        if (options.search) {
          columns.push(
            {
              title: 'Rank',
              key: 'matched_rank',
              value: (a) => ('matched_rank' in a ? a.matched_rank.toFixed(3) : ''),
            },
            {
              title: 'Match',
              key: 'matched_description',
              value: (a) => ('matched_description' in a ? plain(a.matched_description) : ''),
            },
          );
        }
        io.stdout.write(renderRows(shown, columns, format));
      },
    );

  app
    .command('show')
    .description('show one application')
    .argument('<id>', 'application id')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (id: string, options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const detail = await (
        await client()
      ).parsed(ApplicationDetailSchema, 'an application', 'GET', `/apps/${checkId(id)}`);
      io.stdout.write(renderObject(detail, format));
    });

  app
    .command('create')
    .description('register a new application (key=value sets more fields)')
    .argument('<id>', 'application id')
    .argument('[fields...]', 'more fields, e.g. description="…" scm_url=https://…')
    .requiredOption('-t, --team <team>', 'owning team')
    .option('-n, --name <name>', 'display name (default: the id)')
    .action(async (id: string, fields: string[], options: { team: string; name?: string }) => {
      const kio = await client();
      const extra = parseAssignments(fields);
      try {
        await kio.json('GET', `/apps/${checkId(id)}`);
        throw new CliError(
          `application ${id} already exists; change it with "kio app update ${id} key=value"`,
        );
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 404)) throw error;
      }
      await kio.json('PUT', `/apps/${id}`, {
        active: true,
        ...extra,
        team_id: options.team,
        name: options.name ?? id,
      });
      io.stdout.write(`Created application ${id} (team ${options.team}).\n`);
    });

  app
    .command('update')
    .description('change fields of an application, e.g. active=false')
    .argument('<id>', 'application id')
    .argument('<fields...>', 'key=value pairs')
    .action(async (id: string, fields: string[]) => {
      const changes = parseAssignments(fields);
      const kio = await client();
      const current = await kio.parsed(
        StoredApplicationSchema,
        'an application',
        'GET',
        `/apps/${checkId(id)}`,
      );
      // Send the whole object back, as the original client does, minus what the server sets.
      const body = Object.fromEntries(Object.entries(current).filter(([k]) => !SERVER_FIELDS.includes(k)));
      await kio.json('PUT', `/apps/${id}`, { ...body, ...changes });
      io.stdout.write(`Updated application ${id}: ${Object.keys(changes).join(', ')}.\n`);
    });

  app
    .command('history')
    .description('who changed what, newest first')
    .argument('<id>', 'application id')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (id: string, options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const kio = await client();
      // The whole history, page by page (the server answers at most HISTORY_MAX_LIMIT at once).
      const changes: ApplicationChange[] = [];
      for (let before: string | undefined, more = true; more; before = changes.at(-1)?.id) {
        const cursor = before === undefined ? '' : `&before=${before}`;
        const page = await kio.parsed(
          ApplicationChangeSchema.array(),
          'an application history',
          'GET',
          `/apps/${checkId(id)}/history?limit=${HISTORY_MAX_LIMIT}${cursor}`,
        );
        changes.push(...page);
        more = page.length === HISTORY_MAX_LIMIT;
      }
      io.stdout.write(
        renderRows(
          changes,
          [
            { title: 'When', key: 'changed_at', value: (c) => c.changed_at },
            { title: 'Who', key: 'changed_by', value: (c) => c.changed_by },
            { title: 'Action', key: 'action', value: (c) => c.action },
            {
              title: 'Changes',
              key: 'changes',
              value: (c) =>
                format === 'json'
                  ? c.changes
                  : Object.entries(c.changes)
                      .map(
                        ([field, { old, new: value }]) =>
                          `${field}: ${JSON.stringify(old)} → ${JSON.stringify(value)}`,
                      )
                      .join('; '),
            },
          ],
          format,
        ),
      );
    });

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(kioProgram({ io }), argv, io);
}
