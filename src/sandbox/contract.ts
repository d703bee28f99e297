import { z } from 'zod';

/*
 * The sandbox component's contract: personal AWS accounts that move through a lifecycle
 * (seed: sustainable-personal-accounts). spend/ and reports/ read accounts through these types,
 * never through the tables or the Organizations API.
 */

/** The lifecycle, stored as the account tag `account-state` (see ACCOUNT_STATE_TAG). */
export const ACCOUNT_STATES = ['vanilla', 'assigned', 'released', 'expired', 'purged', 'prepared'] as const;
export const AccountStateSchema = z.enum(ACCOUNT_STATES);
export type AccountState = z.infer<typeof AccountStateSchema>;

/** Tag keys on the Organizations account that carry the lifecycle. */
export const ACCOUNT_STATE_TAG = 'account-state';
export const ACCOUNT_HOLDER_TAG = 'account-holder';
export const COST_CENTER_TAG = 'cost-center';

/** The allowed transitions; anything else is refused (409). */
export const TRANSITIONS: Readonly<Record<AccountState, readonly AccountState[]>> = {
  vanilla: ['assigned'],
  assigned: ['released'],
  released: ['expired', 'assigned'],
  expired: ['purged'],
  purged: ['prepared'],
  prepared: ['released'],
};

export const AccountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

/** One personal account as the sandbox service knows it. Timestamps: ISO 8601 (toISOString). */
export const SandboxAccountSchema = z.object({
  id: AccountIdSchema,
  name: z.string(),
  email: z.string(),
  /** Id of the organizational unit (ou-…) the account sits in; null when directly under the root. */
  organizational_unit: z.string().nullable(),
  /** Name of that organizational unit (settings are given per OU name). */
  organizational_unit_name: z.string().nullable(),
  state: AccountStateSchema,
  /** Platform user uid of the holder; null when nobody holds it. */
  holder: z.string().nullable(),
  cost_center: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  /** When the account last entered each state it has been in. */
  state_timestamps: z.partialRecord(AccountStateSchema, z.string()),
});
export type SandboxAccount = z.infer<typeof SandboxAccountSchema>;

export const SANDBOX_EVENT_KINDS = [
  'CreatedAccount',
  'AssignedAccount',
  'ReleasedAccount',
  'ExpiredAccount',
  'PurgedAccount',
  'PreparedAccount',
] as const;
export type SandboxEventKind = (typeof SANDBOX_EVENT_KINDS)[number];

export const SANDBOX_EXCEPTION_KINDS = [
  'BudgetAlertException',
  'ConsoleLoginWithRootException',
  'ConsoleLoginWithIamUserException',
  'FailedMaintenanceException',
  'GenericException',
] as const;
export type SandboxExceptionKind = (typeof SANDBOX_EXCEPTION_KINDS)[number];

/** A lifecycle event or an exception recorded for an account. */
export const SandboxEventSchema = z.object({
  id: z.number().int(),
  account_id: AccountIdSchema,
  kind: z.enum([...SANDBOX_EVENT_KINDS, ...SANDBOX_EXCEPTION_KINDS]),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
  occurred_at: z.string(),
});
export type SandboxEvent = z.infer<typeof SandboxEventSchema>;

/** What other components (spend, reports) may read: the account list. */
export interface SandboxAccounts {
  listAccounts(filter?: { state?: AccountState }): Promise<SandboxAccount[]>;
  getAccount(id: string): Promise<SandboxAccount | undefined>;
}

/*
 * The HTTP API (`GET /accounts`, `POST /accounts/{id}/assign`, …), shared by the routes, the
 * `stups sandbox` commands and the console.
 */

/** An account as the API shows it: the tags' view plus its budget, spend and last purge. */
export const SandboxAccountViewSchema = SandboxAccountSchema.extend({
  /** Monthly budget in USD, from the settings file. */
  budget_amount: z.number(),
  /** Month-to-date spend in USD as of the last daily check; null before the first one. */
  month_to_date: z.number().nullable(),
  last_purge: z.string().nullable(),
});
export type SandboxAccountView = z.infer<typeof SandboxAccountViewSchema>;

export const AccountListQuerySchema = z.object({
  state: AccountStateSchema.optional(),
  /** An organizational unit's id (ou-…) or name. */
  ou: z.string().min(1).max(200).optional(),
  holder: z.string().min(1).max(100).optional(),
});
export type AccountListQuery = z.infer<typeof AccountListQuerySchema>;

export const AssignBodySchema = z.strictObject({
  holder: z
    .string()
    .regex(/^[a-z][a-z0-9._-]{0,62}$/, 'must be a platform user id')
    .describe('uid of the platform user who gets the account'),
});
export type AssignBody = z.infer<typeof AssignBodySchema>;

export const PurgeQuerySchema = z.object({
  dry_run: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true')
    .describe('true (default): list what would go and change nothing; false: delete (expired accounts only)'),
});

const PurgeItemSchema = z.object({ kind: z.string(), id: z.string(), region: z.string() });
export const PurgeResultSchema = z.object({
  account_id: AccountIdSchema,
  dry_run: z.boolean(),
  /** In the order they were (or would be) deleted. */
  deleted: z.array(PurgeItemSchema),
  kept: z.array(PurgeItemSchema),
  errors: z.array(z.object({ item: PurgeItemSchema, message: z.string() })),
});
export type PurgeResultView = z.infer<typeof PurgeResultSchema>;

export const IncidentQuerySchema = z.object({ account_id: AccountIdSchema.optional() });

/** `GET /status`: whether this installation manages accounts, and why not. */
export const SandboxStatusSchema = z.object({
  management: z.enum(['on', 'off']),
  message: z.string(),
});
export type SandboxStatus = z.infer<typeof SandboxStatusSchema>;

/** `POST /tags`: what an import of a CSV of account tags changed (or, as a dry run, would change). */
export const TagImportResultSchema = z.object({
  dry_run: z.boolean(),
  /** Rows of the file (accounts named). */
  rows: z.number().int(),
  /** Tags that differ from the account's, per account; accounts without a change are left out. */
  changes: z.array(z.object({ account_id: z.string(), tags: z.record(z.string(), z.string()) })),
});
export type TagImportResult = z.infer<typeof TagImportResultSchema>;

export const TagImportQuerySchema = z.object({
  dry_run: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});
