import { readFile } from 'node:fs/promises';
import { CronExpressionParser } from 'cron-parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/*
 * The sandbox settings file (path: platform setting `sandbox.configFile`): defaults, then per
 * organizational unit (by OU name), then per account (by id); a later level overrides single keys.
 * Every problem of a file is reported at once as `path: message`, so one edit fixes them all.
 */

export const CronSchema = z.string().refine((text) => {
  try {
    CronExpressionParser.parse(text, { tz: 'UTC' });
    return true;
  } catch {
    return false;
  }
}, 'must be a cron expression, e.g. "0 18 * * 5" (Fridays 18:00 UTC)');

/** The keys each level may set; all optional here, the resolved result has defaults. */
export const AccountSettingsSchema = z.strictObject({
  maintenance_window: CronSchema.optional().describe('Cron expression (UTC) of the maintenance window'),
  budget: z
    .strictObject({
      amount: z.number().positive('must be more than 0').describe('Monthly budget in USD'),
      alert_threshold: z
        .number()
        .gt(0, 'must be more than 0')
        .max(1000, 'must be at most 1000')
        .default(80)
        .describe('Percent of the budget (actual spend) at which the alert goes out'),
    })
    .optional(),
  purge_mode: z.enum(['dry-run', 'force']).optional().describe('dry-run lists what would go; force deletes'),
  tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional().describe('Tags set on prepare'),
  maximum_age_days: z.number().int().positive().optional().describe('Days an assignment may last'),
  regions: z
    .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'))
    .min(1)
    .optional(),
  keep_tag: z
    .string()
    .regex(/^[^=]+=.*$/, 'must be key=value, e.g. sandbox:keep=true')
    .optional()
    .describe('Resources carrying this tag survive a purge'),
  notification_topic_arn: z.string().startsWith('arn:').optional().describe('SNS topic for budget alerts'),
});
export type AccountSettingsInput = z.infer<typeof AccountSettingsSchema>;

export const SandboxConfigFileSchema = z.strictObject({
  defaults: AccountSettingsSchema.default({}),
  organizational_units: z.record(z.string().min(1), AccountSettingsSchema).default({}),
  accounts: z
    .record(z.string().regex(/^\d{12}$/, 'account keys must be 12-digit ids'), AccountSettingsSchema)
    .default({}),
});
export type SandboxConfigFile = z.output<typeof SandboxConfigFileSchema>;

export interface ResolvedAccountSettings {
  maintenance_window: string;
  budget: { amount: number; alert_threshold: number };
  purge_mode: 'dry-run' | 'force';
  tags: Record<string, string>;
  maximum_age_days: number;
  regions: string[];
  keep_tag: { key: string; value: string };
  notification_topic_arn?: string;
}

export const BUILT_IN_DEFAULTS: ResolvedAccountSettings = {
  maintenance_window: '0 18 * * 5',
  budget: { amount: 500, alert_threshold: 80 },
  purge_mode: 'dry-run',
  tags: {},
  maximum_age_days: 90,
  regions: ['eu-west-1'],
  keep_tag: { key: 'sandbox:keep', value: 'true' },
};

export class SandboxConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'SandboxConfigError';
  }
}

/** Validates a parsed file; throws SandboxConfigError with every problem as `path: message`. */
export function parseSandboxConfig(raw: unknown): SandboxConfigFile {
  const result = SandboxConfigFileSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  throw new SandboxConfigError(
    result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`),
  );
}

export async function loadSandboxConfig(file: string): Promise<SandboxConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SandboxConfigError([
      `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new SandboxConfigError([`${file}: not YAML (${(error as Error).message.split('\n')[0]})`]);
  }
  return parseSandboxConfig(doc);
}

/** defaults < organizational unit (by name) < account; single keys override, tags merge. */
export function resolveAccountSettings(
  config: SandboxConfigFile,
  account: { id: string; organizational_unit_name: string | null },
): ResolvedAccountSettings {
  const levels = [
    config.defaults,
    account.organizational_unit_name
      ? config.organizational_units[account.organizational_unit_name]
      : undefined,
    config.accounts[account.id],
  ].filter((level): level is AccountSettingsInput => level !== undefined);
  const resolved: ResolvedAccountSettings = { ...BUILT_IN_DEFAULTS, tags: { ...BUILT_IN_DEFAULTS.tags } };
  for (const level of levels) {
    if (level.maintenance_window !== undefined) resolved.maintenance_window = level.maintenance_window;
    if (level.budget !== undefined) resolved.budget = level.budget;
    if (level.purge_mode !== undefined) resolved.purge_mode = level.purge_mode;
    if (level.tags !== undefined) Object.assign(resolved.tags, level.tags);
    if (level.maximum_age_days !== undefined) resolved.maximum_age_days = level.maximum_age_days;
    if (level.regions !== undefined) resolved.regions = level.regions;
    if (level.notification_topic_arn !== undefined)
      resolved.notification_topic_arn = level.notification_topic_arn;
    if (level.keep_tag !== undefined) {
      const at = level.keep_tag.indexOf('=');
      resolved.keep_tag = { key: level.keep_tag.slice(0, at), value: level.keep_tag.slice(at + 1) };
    }
  }
  return resolved;
}

/** Whether a maintenance window (cron, UTC) began in (since, now]. */
export function windowOpenedBetween(cron: string, since: Date, now: Date): boolean {
  const previous = CronExpressionParser.parse(cron, { currentDate: now, tz: 'UTC' }).prev().toDate();
  return previous.getTime() > since.getTime() && previous.getTime() <= now.getTime();
}

/** JSON Schema of the settings file (docs/sandbox.schema.json). */
export function sandboxConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(SandboxConfigFileSchema, { io: 'input' }),
    $id: 'https://stups.example.org/schemas/sandbox.schema.json',
    title: 'STUPS sandbox accounts settings file',
  };
}
