import { z } from 'zod';
import { ApplicationIdSchema, LenientBoolean } from '../kio/contract.js';

/*
 * mint storage's wire contract, as STUPS clients (the mint CLI, the YOUR TURN console, the
 * worker) used it: snake_case fields, timestamps as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
 */

export { ApplicationIdSchema as MintAppIdSchema };

/** S3 bucket names (the disk store uses them as folder names, so no `/` and no `..`). */
export const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const BucketNameSchema = z
  .string()
  .regex(BUCKET_NAME_PATTERN, 'must be an S3 bucket name (lowercase letters, digits, ".", "-"; 3–63)')
  .refine((name) => !name.includes('..'), 'must not contain ".."');

export const ScopeRefSchema = z.object({
  resource_type_id: z.string().min(1).max(200),
  scope_id: z.string().min(1).max(200),
});
export type ScopeRef = z.infer<typeof ScopeRefSchema>;

/** `2024-05-01T10:00:00.000Z`: what `Date.toISOString()` prints, as mint storage answered. */
export const TimestampSchema = z.string().describe('YYYY-MM-DDTHH:MM:SS.mmmZ');

const HttpsUrlSchema = z
  .url({ protocol: /^https$/, error: 'must be an https URL' })
  .max(2000, 'must be at most 2000 characters');

/**
 * Body of `PUT /apps/{app}`. Fields the server sets (`username`, `client_id`, the timestamps and
 * the status) are accepted, so that a GET body can be PUT back, and ignored.
 */
export const MintAppPutSchema = z.object({
  id: ApplicationIdSchema.nullish(),
  is_client_confidential: LenientBoolean.nullish(),
  redirect_url: z.union([HttpsUrlSchema, z.literal('')]).nullish(),
  s3_buckets: z.array(BucketNameSchema).min(1, 'needs at least one bucket').max(20),
  scopes: z.array(ScopeRefSchema).max(200).nullish(),
  username: z.string().nullish(),
  client_id: z.string().nullish(),
});
export type MintAppPut = z.infer<typeof MintAppPutSchema>;

/** One entry of `GET /apps`. */
export const MintAppSummarySchema = z.object({
  id: z.string(),
  last_password_rotation: TimestampSchema.nullable(),
  last_client_rotation: TimestampSchema.nullable(),
  last_modified: TimestampSchema,
  last_synced: TimestampSchema.nullable(),
  has_problems: z.boolean(),
  message: z.string(),
  s3_errors: z.number().int(),
});
export type MintAppSummary = z.infer<typeof MintAppSummarySchema>;

/** `GET /apps/{app}`: the configuration and its status; never a password or a secret. */
export const MintAppSchema = MintAppSummarySchema.extend({
  username: z.string(),
  client_id: z.string(),
  is_client_confidential: z.boolean(),
  redirect_url: z.string().nullable(),
  s3_buckets: z.array(z.string()),
  scopes: z.array(ScopeRefSchema),
});
export type MintApp = z.infer<typeof MintAppSchema>;

export const MintAppListQuerySchema = z.object({
  resource_type_id: z.string().min(1).max(200).optional(),
  scope_id: z.string().min(1).max(200).optional(),
});
export type MintAppListQuery = z.infer<typeof MintAppListQuerySchema>;

/** Which credentials `POST /apps/{app}/renewal` rotates; STUPS had no choice: both. */
export const RenewalCredentialsSchema = z.enum(['password', 'client', 'both']);
export type RenewalCredentials = z.infer<typeof RenewalCredentialsSchema>;
export const MintRenewalQuerySchema = z.object({
  credentials: RenewalCredentialsSchema.default('both').describe(
    "`password` (the service user's), `client` (the client secret) or `both` (default, as in STUPS)",
  ),
});

/** `PATCH /apps/{app}`: the worker's status update (administrators only); null fields stay. */
export const MintAppPatchSchema = z.strictObject({
  has_problems: LenientBoolean.nullish(),
  message: z.string().max(2000).nullish(),
  s3_errors: z.number().int().min(0).nullish(),
  last_synced: z.iso.datetime().nullish(),
  last_password_rotation: z.iso.datetime().nullish(),
  last_client_rotation: z.iso.datetime().nullish(),
  client_id: z.string().nullish(),
});
export type MintAppPatch = z.infer<typeof MintAppPatchSchema>;

/** What mint writes to `<bucket>/<app>/user.json` (compact JSON, this key order). */
export const UserFileSchema = z.object({
  application_username: z.string(),
  application_password: z.string(),
});
export type UserFile = z.infer<typeof UserFileSchema>;
/** What mint writes to `<bucket>/<app>/client.json`; `client_secret` is null for public clients. */
export const ClientFileSchema = z.object({ client_id: z.string(), client_secret: z.string().nullable() });
export type ClientFile = z.infer<typeof ClientFileSchema>;
/** The probe mint writes to `<bucket>/<app>/test-mint-write` before rotating. */
export const PROBE_FILE = 'test-mint-write';
export const PROBE_BODY = '{"status":"SUCCESS"}';
