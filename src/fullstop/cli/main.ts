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

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(fullstopProgram({ io }), argv, io);
}
