import { z } from 'zod';
import { isSnapshotTag } from '../reference.js';

/**
 * A retention rule as the STUPS API takes it. At least one clause that lets tags go
 * (`keep_last`, `snapshot_days`) is needed; the `keep_*` clauses only ever protect.
 */
export const RetentionRuleInputSchema = z
  .strictObject({
    keep_last: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe('Tags beyond the newest N (by push time) may go; 0 with a keep clause: only kept tags stay'),
    keep_patterns: z
      .array(
        z
          .string()
          .min(1)
          .max(128)
          .regex(/^[A-Za-z0-9_.*?-]+$/, 'a tag pattern holds tag characters and the wildcards * and ?'),
      )
      .max(20)
      .default([])
      .describe('Tags matching one of these globs (`*` any run, `?` one character) are always kept'),
    keep_running: z
      .boolean()
      .default(false)
      .describe('Tags whose image fullstop knows to be running are always kept'),
    snapshot_days: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe('`-SNAPSHOT` tags pushed more than D days ago may go'),
  })
  .refine((rule) => rule.keep_last !== undefined || rule.snapshot_days !== undefined, {
    message: 'a rule needs keep_last or snapshot_days: the keep_* clauses alone would delete nothing',
  })
  .refine((rule) => rule.keep_last !== 0 || rule.keep_running || rule.keep_patterns.length > 0, {
    message: 'keep_last 0 needs keep_running or keep_patterns: alone it would delete every tag',
    path: ['keep_last'],
  });
export type RetentionRuleInput = z.output<typeof RetentionRuleInputSchema>;

/** A rule as the API shows it. */
export const RetentionRuleSchema = z.object({
  team: z.string(),
  /** Absent: the team's rule, for every repository without a rule of its own. */
  artifact: z.string().optional(),
  keep_last: z.number().optional(),
  keep_patterns: z.array(z.string()),
  keep_running: z.boolean(),
  snapshot_days: z.number().optional(),
  updated_at: z.string(),
  updated_by: z.string(),
});

/** The dry run's answer: per repository, the rule that applies and the tags it would delete. */
export const RetentionPlanSchema = z.array(
  z.object({
    team: z.string(),
    artifact: z.string(),
    rule: z.string(),
    expired: z.array(z.object({ tag: z.string(), digest: z.string(), reason: z.string() })),
    skipped: z.string().optional(),
  }),
);

export type RetentionPlanView = z.infer<typeof RetentionPlanSchema>;
export type RetentionRuleView = z.infer<typeof RetentionRuleSchema>;

/** A stored rule. */
export interface RetentionRule {
  team: string;
  /** Undefined: the team's rule. */
  artifact: string | undefined;
  keepLast: number | undefined;
  keepPatterns: string[];
  keepRunning: boolean;
  snapshotDays: number | undefined;
  updatedAt: Date;
  updatedBy: string;
}

/** What a rule is called in reasons and events: `team` or `team/artifact`. */
export function ruleScope(rule: Pick<RetentionRule, 'team' | 'artifact'>): string {
  return rule.artifact === undefined ? rule.team : `${rule.team}/${rule.artifact}`;
}

/** A tag as retention sees it. */
export interface RetentionTag {
  name: string;
  digest: string;
  created: Date;
  /** Marked production-ready for an incident/change: kept whatever the rule says. */
  productionReady: boolean;
}

/** A tag a rule lets go, and why (the reason its deletion records). */
export interface Expiry {
  tag: string;
  digest: string;
  reason: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** A glob (`*`, `?`) as an anchored regular expression; every other character is literal. */
function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.\\+^$()[\]{}|-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * The tags of one repository that `rule` lets go. A tag goes when an expiring clause applies
 * (not among the newest `keep_last`, or a `-SNAPSHOT` tag older than `snapshot_days`) and no
 * keeping clause protects it (a `keep_patterns` glob, `keep_running` with its image running, a
 * production-ready mark). `running` holds the running images' tags (`name`) and digests; when
 * it is undefined and the rule keeps running images, nothing goes: retention must not guess.
 */
export function expiredTags(
  rule: RetentionRule,
  tags: readonly RetentionTag[],
  running: ReadonlySet<string> | undefined,
  now: Date,
): Expiry[] {
  if (rule.keepRunning && running === undefined) return [];
  const patterns = rule.keepPatterns.map(globToRegExp);
  const newestFirst = [...tags].sort(
    (a, b) => b.created.getTime() - a.created.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0),
  );
  const scope = ruleScope(rule);
  const expired: Expiry[] = [];
  for (const [index, tag] of newestFirst.entries()) {
    let why: string | undefined;
    if (rule.keepLast !== undefined && index >= rule.keepLast) {
      why = `not among the newest ${rule.keepLast} tags`;
    } else if (
      rule.snapshotDays !== undefined &&
      isSnapshotTag(tag.name) &&
      now.getTime() - tag.created.getTime() > rule.snapshotDays * DAY_MS
    ) {
      why = `-SNAPSHOT tag older than ${rule.snapshotDays} days`;
    }
    if (why === undefined) continue;
    if (patterns.some((p) => p.test(tag.name))) continue;
    if (tag.productionReady) continue;
    if (rule.keepRunning && (running?.has(tag.name) || running?.has(tag.digest))) continue;
    expired.push({ tag: tag.name, digest: tag.digest, reason: `retention rule ${scope}: ${why}` });
  }
  return expired;
}
