import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Command } from 'commander';
import { z } from 'zod';
import { normaliseUrl, saveToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpError } from '../../platform/cli/http-client.js';
import { type Column, parseOutputFormat, relativeTime, renderRows } from '../../platform/cli/output.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import { serviceClient } from '../../platform/cli/service-client.js';
import type { ZignDeps } from '../../zign/get-token.js';
import {
  type Violation,
  type ViolationType,
  ViolationPageSchema,
  ViolationSchema,
  ViolationTypeSchema,
} from '../contract.js';
import { EXPORT_FORMATS } from '../exports/formats.js';
import {
  type Criteria,
  DryRunResultSchema,
  type RiskAcceptance,
  RiskAcceptanceSchema,
} from '../risk-acceptances/contract.js';
import { type WhitelistingRule, WhitelistingRuleSchema } from '../risk-acceptances/whitelisting-rules.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `--since`: `1d`, `12h`, `30m` (ago, as the STUPS client took it) or an ISO time. */
export function parseSince(value: string, now: Date = new Date()): Date {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative?.[1] && relative[2]) {
    return new Date(now.getTime() - Number(relative[1]) * (UNITS[relative[2]] ?? 0) * 1000);
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    throw new CliError(`--since must be an age like 1d, 12h, 30m or an ISO time, not "${value}"`, 2);
  }
  return at;
}

/** `--expires`: `90d`, `12w` (from now) or an ISO date or time. */
export function parseExpires(value: string, now: Date = new Date()): string {
  const relative = /^(\d+)([hdw])$/.exec(value.trim());
  if (relative?.[1] && relative[2]) {
    return new Date(now.getTime() + Number(relative[1]) * (UNITS[relative[2]] ?? 0) * 1000).toISOString();
  }
  const at = new Date(value);
  if (!value.trim() || Number.isNaN(at.getTime())) {
    throw new CliError(`--expires must be a duration like 90d, 12w or an ISO date, not "${value}"`, 2);
  }
  return at.toISOString();
}

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

interface CriteriaOptions {
  accounts?: string;
  regions?: string;
  types?: string;
  imageName?: string;
  imageOwner?: string;
  applicationId?: string;
  applicationVersion?: string;
  metaInfo?: string;
}

function criteriaOf(o: CriteriaOptions): Criteria {
  const criteria: Criteria = {};
  const accounts = list(o.accounts);
  const regions = list(o.regions);
  const types = list(o.types);
  if (accounts) criteria.accounts = accounts;
  if (regions) criteria.regions = regions;
  if (types) criteria.types = types;
  if (o.imageName) criteria.image_name = o.imageName;
  if (o.imageOwner) criteria.image_owner = o.imageOwner;
  if (o.applicationId) criteria.application_id = o.applicationId;
  if (o.applicationVersion) criteria.application_version = o.applicationVersion;
  if (o.metaInfo) criteria.meta_info = o.metaInfo;
  if (!Object.keys(criteria).length) {
    throw new CliError(
      'give at least one criterion: --accounts, --regions, --types, --image-name, --image-owner, --application-id, --application-version or --meta-info',
      2,
    );
  }
  return criteria;
}

/** Criteria in one cell: `types=A,B regions=eu-west-1`. */
function criteriaText(c: Criteria): string {
  return Object.entries(c)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
}

function acceptanceColumns(format: string): Column<RiskAcceptance>[] {
  return [
    { title: 'Id', key: 'id', value: (a) => a.id },
    { title: 'Team', key: 'team', value: (a) => a.team },
    { title: 'Status', key: 'status', value: (a) => a.status },
    { title: 'Covered', key: 'covered_violations', value: (a) => a.covered_violations },
    {
      title: 'Expires',
      key: 'expires',
      value: (a) => (format === 'text' ? relativeTime(new Date(a.expires)) : a.expires),
    },
    { title: 'By', key: 'created_by', value: (a) => a.created_by },
    {
      title: 'Criteria',
      key: 'criteria',
      value: (a) => (format === 'json' ? a.criteria : criteriaText(a.criteria)),
    },
    { title: 'Reason', key: 'reason', value: (a) => a.reason },
  ];
}

/** `fullstop rules`: the STUPS view; json keeps the STUPS field names beside the full criteria. */
function ruleColumns(format: string): Column<WhitelistingRule>[] {
  return [
    { title: 'Id', key: 'id', value: (r) => r.id },
    { title: 'Team', key: 'team', value: (r) => r.team },
    { title: 'Status', key: 'status', value: (r) => r.status },
    {
      title: 'Expires',
      key: 'expiry_date',
      value: (r) => (format === 'text' ? relativeTime(new Date(r.expiry_date)) : r.expiry_date),
    },
    {
      title: 'Criteria',
      key: 'criteria',
      value: (r) => (format === 'json' ? r.criteria : criteriaText(r.criteria)),
    },
    { title: 'By', key: 'created_by', value: (r) => r.created_by },
    { title: 'Reason', key: 'reason', value: (r) => r.reason },
  ];
}

function positiveInt(name: string) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new CliError(`${name} must be a positive whole number`, 2);
    return Number(value);
  };
}

interface Filters {
  accounts?: string;
  since: string;
  type?: string;
  severity?: string;
  checked?: boolean;
  limit: number;
}

/** The STUPS client's query: newest first, `from` with microseconds as Python sent it. */
function violationQuery(f: Filters): string {
  const q = new URLSearchParams({ size: String(f.limit), sort: 'id,DESC' });
  q.set('from', parseSince(f.since).toISOString().replace('Z', '000Z'));
  if (f.accounts) q.set('accounts', f.accounts);
  if (f.type) q.set('type', f.type);
  if (f.severity) q.set('severity', f.severity);
  if (f.checked) q.set('checked', 'true');
  return q.toString();
}

function filterOptions(command: Command): Command {
  return command
    .option('-a, --accounts <ids>', 'comma-separated AWS account ids')
    .option('-s, --since <age>', 'only violations newer than this (1d, 12h, or an ISO time)', '1d')
    .option('-t, --type <types>', 'comma-separated violation type ids')
    .option('--severity <levels>', 'comma-separated severities (0-4)')
    .option('-l, --limit <n>', 'at most this many violations', positiveInt('--limit'), 20);
}

/** `fullstop`: violations of the platform rules on the command line. */
export function fullstopProgram(deps: ZignDeps): Command {
  const { io } = deps;
  const client = () => serviceClient('fullstop', 'fullstop.', deps);
  const program = new Command('fullstop').description('fullstop. violations').version('0.1.0');

  program
    .command('configure')
    .description('set the fullstop. URL (~/.config/fullstop/fullstop.yaml); "stups configure" sets all tools')
    .requiredOption('--url <url>', 'fullstop. base URL')
    .action(async (options: { url: string }) => {
      io.stdout.write(
        `Saved ${await saveToolConfig('fullstop', io.env, { url: normaliseUrl(options.url) })}\n`,
      );
    });

  program
    .command('types')
    .description('list the violation types')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const types = await (
        await client()
      ).parsed(z.array(ViolationTypeSchema), 'a list of violation types', 'GET', '/api/violation-types');
      const columns: Column<ViolationType>[] = [
        { title: 'Id', key: 'id', value: (t) => t.id },
        { title: 'Sev', key: 'violation_severity', value: (t) => t.violation_severity },
        { title: 'Prio', key: 'priority', value: (t) => t.priority },
        { title: 'Title', key: 'title', value: (t) => t.title },
      ];
      // Help texts are paragraphs: in machine formats only, a table would wrap them unreadably.
      if (format !== 'text') columns.push({ title: 'Help', key: 'help_text', value: (t) => t.help_text });
      const sorted = [...types].sort(
        (a, b) => b.violation_severity - a.violation_severity || a.id.localeCompare(b.id),
      );
      io.stdout.write(renderRows(sorted, columns, format));
    });

  filterOptions(
    program
      .command('list-violations')
      .description('list open violations, newest first (resolved ones too with --checked)')
      .option('-c, --checked', 'only violations already resolved (commented)')
      .option('-o, --output <format>', 'text, json or tsv', 'text'),
  ).action(async (options: Filters & { output: string }) => {
    const format = parseOutputFormat(options.output);
    const page = await (
      await client()
    ).parsed(
      ViolationPageSchema,
      'a page of violations',
      'GET',
      `/api/violations?${violationQuery(options)}`,
    );
    io.stdout.write(
      renderRows(
        page.content,
        [
          { title: 'Id', key: 'id', value: (v: Violation) => v.id },
          { title: 'Account', key: 'account_id', value: (v) => v.account_id },
          { title: 'Region', key: 'region', value: (v) => v.region },
          { title: 'Type', key: 'type', value: (v) => v.violation_type.id },
          { title: 'Sev', key: 'severity', value: (v) => v.violation_type.violation_severity },
          { title: 'Instance', key: 'instance_id', value: (v) => v.instance_id },
          { title: 'Meta', key: 'meta_info', value: (v) => v.meta_info },
          { title: 'Comment', key: 'comment', value: (v) => v.comment },
          {
            title: 'Created',
            key: 'created',
            value: (v) => (format === 'text' ? relativeTime(new Date(v.created)) : v.created),
          },
        ],
        format,
      ),
    );
  });

  filterOptions(
    program
      .command('resolve-violations')
      .description(
        'resolve violations with a comment: those given by --id, or all open ones matching the filters',
      )
      .argument('<comment>', 'why the violation is resolved')
      .option('-i, --id <ids>', 'comma-separated violation ids'),
  ).action(async (comment: string, options: Filters & { id?: string }) => {
    if (!comment.trim()) throw new CliError('the comment must not be empty', 2);
    const fullstop = await client();
    let ids: number[];
    if (options.id) {
      ids = options.id.split(',').map((s) => positiveInt('--id')(s.trim()));
    } else {
      const page = await fullstop.parsed(
        ViolationPageSchema,
        'a page of violations',
        'GET',
        `/api/violations?${violationQuery(options)}`,
      );
      ids = page.content.map((v) => v.id);
    }
    let resolved = 0;
    for (const id of ids) {
      // As the STUPS client: read the violation first (a wrong id is a clear 404), then post the text.
      const violation = await fullstop.parsed(ViolationSchema, 'a violation', 'GET', `/api/violations/${id}`);
      if (violation.comment !== null && !options.id) continue;
      const response = await fullstop.request('POST', `/api/violations/${id}/resolution`, comment, {
        'content-type': 'text/plain; charset=utf-8',
      });
      const text = await fullstop.readText(response);
      if (!response.ok) {
        const detail = /"detail"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? response.statusText;
        throw new HttpError(
          `fullstop. answered ${response.status} for violation ${id}: ${detail}`,
          response.status,
          text,
        );
      }
      resolved++;
    }
    io.stdout.write(`Resolved ${resolved} violation${resolved === 1 ? '' : 's'}.\n`);
  });

  program
    .command('accept-risk')
    .description(
      'accept the risk of the violations matching the criteria until a date: they count as checked until then',
    )
    .requiredOption('--team <team>', 'the team accepting the risk (you must be a member)')
    .option('--reason <text>', 'why the risk is accepted (required unless --dry-run)')
    .option(
      '--expires <when>',
      'when the acceptance ends: 90d, 12w or an ISO date (required unless --dry-run)',
    )
    .option('-a, --accounts <ids>', 'comma-separated AWS account ids')
    .option('-r, --regions <regions>', 'comma-separated regions')
    .option('-t, --types <types>', 'comma-separated violation type ids')
    .option('--image-name <regex>', 'regular expression over the image name')
    .option('--image-owner <account>', 'AWS account owning the AMI')
    .option('--application-id <id>', 'Kio application id')
    .option('--application-version <version>', 'application version')
    .option('--meta-info <jsonpath>', 'JSONPath filter over meta_info, e.g. "$.rules[?(@.from_port == 22)]"')
    .option('--dry-run', 'only show what would be covered; store nothing')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(
      async (
        options: CriteriaOptions & {
          team: string;
          reason?: string;
          expires?: string;
          dryRun?: boolean;
          output: string;
        },
      ) => {
        const format = parseOutputFormat(options.output);
        const criteria = criteriaOf(options);
        const fullstop = await client();
        if (options.dryRun) {
          const result = await fullstop.parsed(
            DryRunResultSchema,
            'a dry run result',
            'POST',
            '/api/risk-acceptances/dry-run',
            { criteria, team: options.team },
          );
          if (format === 'json') {
            io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            return;
          }
          if (format === 'text')
            io.stdout.write(
              `Would cover ${result.matching} open violation${result.matching === 1 ? '' : 's'}.\n`,
            );
          io.stdout.write(
            renderRows(
              result.sample,
              [
                { title: 'Id', key: 'id', value: (v: Violation) => v.id },
                { title: 'Account', key: 'account_id', value: (v) => v.account_id },
                { title: 'Region', key: 'region', value: (v) => v.region },
                { title: 'Type', key: 'type', value: (v) => v.violation_type.id },
                { title: 'Instance', key: 'instance_id', value: (v) => v.instance_id },
                { title: 'Meta', key: 'meta_info', value: (v) => v.meta_info },
              ],
              format,
            ),
          );
          return;
        }
        if (!options.reason?.trim()) throw new CliError('--reason is required (why the risk is accepted)', 2);
        if (!options.expires) throw new CliError('--expires is required (e.g. 90d): acceptances end', 2);
        const acceptance = await fullstop.parsed(
          RiskAcceptanceSchema,
          'a risk acceptance',
          'POST',
          '/api/risk-acceptances',
          { criteria, team: options.team, reason: options.reason, expires: parseExpires(options.expires) },
        );
        if (format === 'text') {
          io.stdout.write(
            `Risk acceptance ${acceptance.id} covers ${acceptance.covered_violations} violation${acceptance.covered_violations === 1 ? '' : 's'} until ${acceptance.expires}.\n`,
          );
        } else {
          io.stdout.write(renderRows([acceptance], acceptanceColumns(format), format));
        }
      },
    );

  program
    .command('risk-acceptances')
    .description('list risk acceptances, newest first')
    .option('--team <team>', 'only this team’s')
    .option('--status <status>', 'active, expired or all', 'active')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { team?: string; status: string; output: string }) => {
      const format = parseOutputFormat(options.output);
      if (!['active', 'expired', 'all'].includes(options.status))
        throw new CliError(`--status must be active, expired or all, not "${options.status}"`, 2);
      const q = new URLSearchParams({ status: options.status });
      if (options.team) q.set('team', options.team);
      const acceptances = await (
        await client()
      ).parsed(
        z.array(RiskAcceptanceSchema),
        'a list of risk acceptances',
        'GET',
        `/api/risk-acceptances?${q}`,
      );
      io.stdout.write(renderRows(acceptances, acceptanceColumns(format), format));
    });

  program
    .command('rules')
    .description('list the whitelisting rules (active risk acceptances), newest first')
    .option('--all', 'expired ones too')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (options: { all?: boolean; output: string }) => {
      const format = parseOutputFormat(options.output);
      const status = options.all ? 'all' : 'active';
      const rules = await (
        await client()
      ).parsed(
        z.array(WhitelistingRuleSchema),
        'a list of whitelisting rules',
        'GET',
        `/api/whitelisting-rules?status=${status}`,
      );
      io.stdout.write(renderRows(rules, ruleColumns(format), format));
    });

  program
    .command('expire-acceptance')
    .description('end a risk acceptance now: what it covered is open again')
    .argument('<id>', 'the risk acceptance id')
    .option('--reason <text>', 'why it ends early')
    .option('-o, --output <format>', 'text, json or tsv', 'text')
    .action(async (id: string, options: { reason?: string; output: string }) => {
      const format = parseOutputFormat(options.output);
      const acceptanceId = positiveInt('the acceptance id')(id);
      const ended = await (
        await client()
      ).parsed(
        RiskAcceptanceSchema,
        'a risk acceptance',
        'POST',
        `/api/risk-acceptances/${acceptanceId}/expire`,
        options.reason ? { reason: options.reason } : {},
      );
      if (format === 'text') {
        io.stdout.write(
          `Risk acceptance ${ended.id} ended; the ${ended.covered_violations} violation${ended.covered_violations === 1 ? '' : 's'} it covered ${ended.covered_violations === 1 ? 'is' : 'are'} open again unless resolved.\n`,
        );
      } else {
        io.stdout.write(renderRows([ended], acceptanceColumns(format), format));
      }
    });

  program
    .command('export')
    .description('export violations as CSV, SARIF 2.1.0 or OCSF (JSON) to stdout or a file')
    .requiredOption('-f, --format <format>', 'csv, sarif or ocsf')
    .option('-a, --accounts <ids>', 'comma-separated AWS account ids')
    .option('-s, --since <age>', 'only violations newer than this (1d, 12h, or an ISO time); default: all')
    .option('-t, --type <types>', 'comma-separated violation type ids')
    .option('--severity <levels>', 'comma-separated severities (0-4)')
    .option('-c, --checked', 'resolved and accepted violations instead of open ones')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(
      async (options: {
        format: string;
        accounts?: string;
        since?: string;
        type?: string;
        severity?: string;
        checked?: boolean;
        output?: string;
      }) => {
        const format = EXPORT_FORMATS.find((f) => f === options.format);
        if (!format) throw new CliError(`--format must be csv, sarif or ocsf, not "${options.format}"`, 2);
        const q = new URLSearchParams({ format });
        if (options.since) q.set('from', parseSince(options.since).toISOString());
        if (options.accounts) q.set('accounts', options.accounts);
        if (options.type) q.set('type', options.type);
        if (options.severity) q.set('severity', options.severity);
        if (options.checked) q.set('checked', 'true');
        const fullstop = await client();
        const response = await fullstop.request('GET', `/api/violations/export?${q}`, undefined, {
          accept: '*/*',
        });
        if (!response.ok || !response.body) {
          const text = await fullstop.readText(response);
          const detail = /"detail"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? response.statusText;
          throw new HttpError(`fullstop. answered ${response.status}: ${detail}`, response.status, text);
        }
        // Streamed to where it goes: an export of 100,000 violations is never held in memory.
        const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
        try {
          if (options.output) {
            await pipeline(body, createWriteStream(resolve(io.cwd, options.output)));
            io.stderr.write(`Wrote ${options.output}.\n`);
          } else {
            for await (const chunk of body) io.stdout.write(chunk as Buffer);
          }
        } catch (error) {
          const code = error instanceof Error && 'code' in error ? String(error.code) : 'failed';
          throw new CliError(
            `the export could not be written${options.output ? ` to ${options.output}` : ''}: ${code}`,
          );
        }
      },
    );

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(fullstopProgram({ io }), argv, io);
}
