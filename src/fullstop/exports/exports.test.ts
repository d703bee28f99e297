import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import type { ImageCatalog } from '../aws/images.js';
import { VIOLATION_TYPES } from '../rules/index.js';
import type { NewViolationRow } from '../store.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from '../test-support/fullstop-harness.js';

const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('no RunInstances events in these tests')),
};

/** The properties SARIF 2.1.0's schema requires (and the enumerations it fixes) on what we write. */
const Message = z.object({ text: z.string().min(1) });
const SarifSchema = z.object({
  $schema: z.string().url().optional(),
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.object({
        tool: z.object({
          driver: z.object({
            name: z.string().min(1),
            rules: z.array(
              z.object({
                id: z.string().min(1),
                shortDescription: Message.optional(),
                fullDescription: Message.optional(),
                defaultConfiguration: z
                  .object({ level: z.enum(['none', 'note', 'warning', 'error']) })
                  .optional(),
              }),
            ),
          }),
        }),
        results: z.array(
          z.object({
            ruleId: z.string(),
            ruleIndex: z.number().int().min(0).optional(),
            level: z.enum(['none', 'note', 'warning', 'error']),
            message: Message,
            locations: z
              .array(
                z.object({
                  logicalLocations: z
                    .array(z.object({ name: z.string(), fullyQualifiedName: z.string(), kind: z.string() }))
                    .min(1),
                }),
              )
              .min(1),
            suppressions: z
              .array(
                z.object({
                  kind: z.enum(['inSource', 'external']),
                  status: z.enum(['accepted', 'underReview', 'rejected']).optional(),
                  justification: z.string().optional(),
                }),
              )
              .optional(),
            partialFingerprints: z.record(z.string(), z.string()).optional(),
          }),
        ),
      }),
    )
    .length(1),
});

/** What OCSF 1.x requires of a Detection Finding (class 2004), as far as we fill it. */
const OcsfSchema = z.array(
  z.object({
    class_uid: z.literal(2004),
    category_uid: z.literal(2),
    activity_id: z.literal(1),
    type_uid: z.literal(200401),
    severity_id: z.number().int().min(1).max(5),
    severity: z.string(),
    status_id: z.union([z.literal(1), z.literal(3), z.literal(4)]),
    time: z.number().int(),
    metadata: z.object({
      version: z.string().regex(/^1\.\d+\.\d+$/),
      product: z.object({ name: z.string() }),
    }),
    finding_info: z.object({ uid: z.string().min(1), title: z.string().min(1), types: z.array(z.string()) }),
    cloud: z.object({
      provider: z.literal('AWS'),
      region: z.string(),
      account: z.object({ uid: z.string() }),
    }),
    resources: z.array(z.object({ uid: z.string(), type: z.string() })),
  }),
);

/** A CSV line split into cells (RFC 4180 quoting, as csv-stringify writes it). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}

describeEachDatabase('violation exports', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
  let h: FullstopHarness;
  let jdoe: Headers;
  const BULK = 2_345;

  const exported = async (query: string) => {
    const r = await h.app.inject({ url: `/api/violations/export?${query}`, headers: jdoe });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    return r;
  };

  beforeAll(async () => {
    h = await createFullstopHarness(getDatabase(), noImages);
    jdoe = await h.as('jdoe');
    const row = (i: number, o: Partial<NewViolationRow> = {}): NewViolationRow => ({
      event_id: `evt-${i}`,
      account_id: ACCOUNT_A,
      region: 'eu-west-1',
      instance_id: '',
      type_id: 'PASSWORD_USED',
      meta_info: { user_name: 'legacy-admin' },
      team_id: 'team-a',
      username: null,
      application_id: null,
      application_version_id: null,
      created_by: 'fullstop',
      ...o,
    });
    await h.fullstop.store.write(async (tx) => {
      await tx.insertViolations([
        row(1, {
          type_id: 'SECURITY_GROUP_OPEN_TO_THE_WORLD',
          instance_id: 'i-0123456789abcdef0',
          username: '=HYPERLINK("http://evil.example")',
          meta_info: { group_id: 'sg-1', rules: [{ from_port: 22, to_port: 22 }] },
          application_id: 'order-engine',
        }),
        row(2, {
          type_id: 'WRONG_REGION',
          region: 'us-east-1',
          meta_info: { allowed_regions: ['eu-west-1'] },
        }),
        row(3, { account_id: ACCOUNT_B, team_id: 'team-b', type_id: 'EC2_WITH_KEYPAIR' }),
        row(4, { type_id: 'MISSING_USER_DATA' }),
      ]);
      // Enough to span several of the store's reading batches (1,000 rows each).
      await tx.insertViolations(
        Array.from({ length: BULK }, (_, i) => row(1000 + i, { account_id: '999999999999' })),
      );
    });
  }, 60_000);
  afterAll(async () => {
    await h.app.close();
  });

  it('exports CSV with a header, the filters of GET /api/violations and formulas defused', async () => {
    const r = await exported(`format=csv&accounts=${ACCOUNT_A},${ACCOUNT_B}`);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toBe('attachment; filename="fullstop-violations.csv"');
    const [header, ...rows] = parseCsv(r.body);
    expect(header).toEqual(
      expect.arrayContaining(['id', 'account_id', 'type', 'severity', 'state', 'meta_info']),
    );
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((c) => [c[col('account_id')], c[col('type')], c[col('state')]])).toEqual([
      [ACCOUNT_A, 'SECURITY_GROUP_OPEN_TO_THE_WORLD', 'open'],
      [ACCOUNT_A, 'WRONG_REGION', 'open'],
      [ACCOUNT_B, 'EC2_WITH_KEYPAIR', 'open'],
      [ACCOUNT_A, 'MISSING_USER_DATA', 'open'],
    ]);
    const first = rows[0]!;
    expect(first[col('username')]).toBe(`'=HYPERLINK("http://evil.example")`);
    expect(JSON.parse(first[col('meta_info')]!)).toEqual({
      group_id: 'sg-1',
      rules: [{ from_port: 22, to_port: 22 }],
    });
    expect(first[col('instance_id')]).toBe('i-0123456789abcdef0');

    const filtered = parseCsv((await exported(`format=csv&accounts=${ACCOUNT_A}&type=WRONG_REGION`)).body);
    expect(filtered.slice(1).map((c) => c[col('type')])).toEqual(['WRONG_REGION']);
  });

  it('exports every matching violation across reading batches, in id order', async () => {
    const r = await exported('format=csv&accounts=999999999999');
    const rows = parseCsv(r.body).slice(1);
    expect(rows).toHaveLength(BULK);
    const ids = rows.map((c) => Number(c[0]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(BULK);
    const ocsf = OcsfSchema.parse((await exported('format=ocsf&accounts=999999999999')).json());
    expect(ocsf).toHaveLength(BULK);
  });

  it('exports SARIF 2.1.0: one run of fullstop, the violation types as rules, logical locations', async () => {
    // A resolved violation (checked=true) is exported as a suppressed result.
    const [resolved] = (
      await h.app.inject({ url: `/api/violations?accounts=${ACCOUNT_A}&type=WRONG_REGION`, headers: jdoe })
    ).json().content;
    await h.app.inject({
      method: 'POST',
      url: `/api/violations/${resolved.id}/resolution`,
      headers: { ...jdoe, 'content-type': 'text/plain' },
      payload: 'instance terminated',
    });
    const r = await exported(`format=sarif&accounts=${ACCOUNT_A}`);
    expect(r.headers['content-type']).toBe('application/sarif+json; charset=utf-8');
    const sarif = SarifSchema.parse(r.json());
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('fullstop');
    expect(run.tool.driver.rules.map((rule) => rule.id)).toEqual([...VIOLATION_TYPES.keys()]);
    expect(run.results.map((res) => [res.ruleId, res.level])).toEqual([
      ['SECURITY_GROUP_OPEN_TO_THE_WORLD', 'error'],
      ['MISSING_USER_DATA', expect.stringMatching(/^(error|warning|note)$/)],
    ]);
    for (const res of run.results) {
      expect(run.tool.driver.rules[res.ruleIndex!]!.id).toBe(res.ruleId);
      const severity = VIOLATION_TYPES.get(res.ruleId)!.violation_severity;
      expect(res.level).toBe(severity >= 3 ? 'error' : severity === 2 ? 'warning' : 'note');
    }
    expect(run.results[0]!.locations[0]!.logicalLocations.map((l) => l.fullyQualifiedName)).toEqual([
      ACCOUNT_A,
      `${ACCOUNT_A}/eu-west-1`,
      `${ACCOUNT_A}/eu-west-1/i-0123456789abcdef0`,
    ]);
    const all = SarifSchema.parse((await exported(`format=sarif&accounts=${ACCOUNT_A}&checked=true`)).json());
    expect(all.runs[0]!.results.map((res) => [res.ruleId, res.suppressions])).toEqual([
      ['WRONG_REGION', [{ kind: 'external', status: 'accepted', justification: 'instance terminated' }]],
    ]);
  });

  it('exports OCSF Detection Findings with severity and status mapped', async () => {
    const r = await exported(`format=ocsf&accounts=${ACCOUNT_A},${ACCOUNT_B}`);
    const findings = OcsfSchema.parse(r.json());
    expect(findings.map((f) => f.finding_info.types[0])).toEqual([
      'SECURITY_GROUP_OPEN_TO_THE_WORLD',
      'EC2_WITH_KEYPAIR',
      'MISSING_USER_DATA',
    ]);
    for (const f of findings) {
      const type = VIOLATION_TYPES.get(f.finding_info.types[0]!)!;
      expect(f.severity_id).toBe(type.violation_severity + 1);
      expect(f.finding_info.title).toBe(type.title);
      expect(f.status_id).toBe(1);
      expect(new Date(f.time).toISOString()).toMatch(/^\d{4}-/);
    }
    // Unparsed: the schema above drops the properties it does not name.
    expect(r.json()[0].resources).toEqual([
      { uid: 'i-0123456789abcdef0', type: 'AWS::EC2::Instance', region: 'eu-west-1' },
    ]);
    expect(findings[1]!.cloud.account.uid).toBe(ACCOUNT_B);
  });

  it('answers 400 problems for an unknown format and bad filters, 401 without a token', async () => {
    for (const query of ['format=xml', '', 'format=csv&from=yesterday']) {
      const r = await h.app.inject({ url: `/api/violations/export?${query}`, headers: jdoe });
      expect(r.statusCode, query).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const anonymous = await h.app.inject({ url: '/api/violations/export?format=csv' });
    expect(anonymous.statusCode).toBe(401);
  });
});
