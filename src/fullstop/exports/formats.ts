import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Violation } from '../contract.js';
import { VIOLATION_TYPES } from '../rules/index.js';
import { violationTypeOf } from '../violations.js';

export const EXPORT_FORMATS = ['csv', 'sarif', 'ocsf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  sarif: 'application/sarif+json; charset=utf-8',
  ocsf: 'application/json; charset=utf-8',
};

/** Where a violation stands: resolved with a comment, accepted (a risk acceptance covers it), or open. */
export function stateOf(v: Violation): 'resolved' | 'accepted' | 'open' {
  if (v.comment !== null) return 'resolved';
  return v.rule_id !== null ? 'accepted' : 'open';
}

/** The export of `violations` (read lazily, one at a time) as a stream of text. */
export function exportStream(format: ExportFormat, violations: AsyncIterable<Violation>): Readable {
  switch (format) {
    case 'csv':
      return csvStream(violations);
    case 'sarif':
      return jsonStream(`${sarifHead()}`, map(violations, sarifResult), ']}]}\n');
    case 'ocsf':
      return jsonStream('[', map(violations, ocsfFinding), ']\n');
  }
}

async function* map<T, R>(items: AsyncIterable<T>, fn: (item: T) => R): AsyncGenerator<R> {
  for await (const item of items) yield fn(item);
}

/** `head`, the items as JSON separated by commas, `tail`: a JSON document written item by item. */
function jsonStream(head: string, items: AsyncIterable<unknown>, tail: string): Readable {
  return Readable.from(
    (async function* () {
      yield head;
      let first = true;
      for await (const item of items) {
        yield (first ? '' : ',') + JSON.stringify(item);
        first = false;
      }
      yield tail;
    })(),
    { objectMode: false },
  );
}

const CSV_COLUMNS = [
  'id',
  'account_id',
  'region',
  'instance_id',
  'type',
  'title',
  'severity',
  'priority',
  'audit_relevant',
  'state',
  'comment',
  'rule_id',
  'event_id',
  'username',
  'application_id',
  'application_version_id',
  'created',
  'event_time',
  'last_modified',
  'last_modified_by',
  'meta_info',
] as const;

/**
 * A spreadsheet runs a cell starting with = + - @ as a formula; a quote in front keeps text
 * from a CloudTrail record (user names, comments) from becoming one (CSV injection).
 */
function cell(value: string | null): string {
  if (value === null) return '';
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvStream(violations: AsyncIterable<Violation>): Readable {
  const rows = map(violations, (v) => ({
    id: v.id,
    account_id: v.account_id,
    region: v.region,
    instance_id: v.instance_id ?? '',
    type: v.violation_type.id,
    title: cell(v.violation_type.title),
    severity: v.violation_type.violation_severity,
    priority: v.violation_type.priority,
    audit_relevant: v.violation_type.audit_relevant,
    state: stateOf(v),
    comment: cell(v.comment),
    rule_id: v.rule_id ?? '',
    event_id: cell(v.event_id),
    username: cell(v.username),
    application_id: cell(v.application_id),
    application_version_id: cell(v.application_version_id),
    created: v.created,
    event_time: v.event_time ?? '',
    last_modified: v.last_modified,
    last_modified_by: cell(v.last_modified_by),
    meta_info: v.meta_info === null || v.meta_info === undefined ? '' : cell(JSON.stringify(v.meta_info)),
  }));
  // Readable.from reads the rows as the CSV stream asks for them: back-pressure reaches the database.
  return Readable.from(rows).pipe(
    stringify({
      header: true,
      columns: [...CSV_COLUMNS],
      cast: { boolean: (b) => (b ? 'true' : 'false') },
    }),
  );
}

/** SARIF levels from STUPS severities (0 lowest … 4 highest). */
export function sarifLevel(severity: number): 'error' | 'warning' | 'note' {
  if (severity >= 3) return 'error';
  return severity === 2 ? 'warning' : 'note';
}

const RULE_IDS = [...VIOLATION_TYPES.keys()];

/** The document up to the first result: one run of the tool "fullstop" whose rules are the violation types. */
function sarifHead(): string {
  const rules = RULE_IDS.map((id) => {
    const t = violationTypeOf(id);
    return {
      id: t.id,
      name: t.id
        .toLowerCase()
        .replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())
        .replace(/^\w/, (c) => c.toUpperCase()),
      shortDescription: { text: t.title },
      fullDescription: { text: t.help_text },
      defaultConfiguration: { level: sarifLevel(t.violation_severity) },
      properties: { severity: t.violation_severity, priority: t.priority, audit_relevant: t.audit_relevant },
    };
  });
  const document = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      { tool: { driver: { name: 'fullstop', informationUri: 'https://stups.io', rules } }, results: [] },
    ],
  };
  const json = JSON.stringify(document);
  // Cut before the empty results' closing brackets: the results are streamed in between.
  return json.slice(0, json.length - ']}]}'.length);
}

function sarifResult(v: Violation) {
  const index = RULE_IDS.indexOf(v.violation_type.id);
  const where = [v.account_id, v.region, ...(v.instance_id ? [v.instance_id] : [])];
  const state = stateOf(v);
  return {
    ruleId: v.violation_type.id,
    ...(index >= 0 ? { ruleIndex: index } : {}),
    level: sarifLevel(v.violation_type.violation_severity),
    message: {
      text: `${v.violation_type.title} (account ${v.account_id}, ${v.region}${v.instance_id ? `, ${v.instance_id}` : ''})`,
    },
    locations: [
      {
        logicalLocations: where.map((_, i) => ({
          name: where[i],
          fullyQualifiedName: where.slice(0, i + 1).join('/'),
          kind: 'resource',
        })),
      },
    ],
    partialFingerprints: {
      'fullstopViolation/v1': [
        v.account_id,
        v.region,
        v.event_id,
        v.instance_id ?? '',
        v.violation_type.id,
      ].join('/'),
    },
    ...(state === 'open'
      ? {}
      : {
          suppressions: [
            {
              kind: 'external',
              status: 'accepted',
              justification: state === 'resolved' ? (v.comment ?? '') : `risk acceptance ${v.rule_id}`,
            },
          ],
        }),
    properties: {
      violation_id: v.id,
      event_id: v.event_id,
      created: v.created,
      event_time: v.event_time,
      username: v.username,
      application_id: v.application_id,
      application_version_id: v.application_version_id,
      meta_info: v.meta_info ?? null,
    },
  };
}

/** OCSF severity_id from STUPS severities: 0 Informational … 4 Critical. */
export const OCSF_SEVERITIES = [
  [1, 'Informational'],
  [2, 'Low'],
  [3, 'Medium'],
  [4, 'High'],
  [5, 'Critical'],
] as const;

const OCSF_STATUS = {
  open: [1, 'New'],
  accepted: [3, 'Suppressed'],
  resolved: [4, 'Resolved'],
} as const;

/** One violation as an OCSF 1.3 Detection Finding (class 2004, category Findings). */
function ocsfFinding(v: Violation) {
  const [severityId, severity] =
    OCSF_SEVERITIES[Math.min(Math.max(v.violation_type.violation_severity, 0), 4)]!;
  const [statusId, status] = OCSF_STATUS[stateOf(v)];
  const created = Date.parse(v.created);
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    time: created,
    message: v.violation_type.title,
    metadata: {
      version: '1.3.0',
      product: { name: 'fullstop.', vendor_name: 'STUPS' },
      logged_time: Date.parse(v.last_modified),
    },
    finding_info: {
      uid: String(v.id),
      title: v.violation_type.title,
      desc: v.violation_type.help_text,
      types: [v.violation_type.id],
      // created_time: when fullstop stored it; first_seen_time: when the event behind it happened.
      created_time: created,
      ...(v.event_time ? { first_seen_time: Date.parse(v.event_time) } : {}),
      modified_time: Date.parse(v.last_modified),
      src_url: `/api/violations/${v.id}`,
    },
    cloud: {
      provider: 'AWS',
      region: v.region,
      account: { uid: v.account_id, type: 'AWS Account', type_id: 10 },
    },
    resources: v.instance_id ? [{ uid: v.instance_id, type: 'AWS::EC2::Instance', region: v.region }] : [],
    ...(v.username ? { actor: { user: { name: v.username } } } : {}),
    ...(v.comment !== null ? { comment: v.comment } : {}),
    unmapped: {
      event_id: v.event_id,
      meta_info: v.meta_info ?? null,
      application_id: v.application_id,
      application_version_id: v.application_version_id,
      risk_acceptance_id: v.rule_id,
    },
  };
}
