import { z } from 'zod';

/** Host names and addresses even accepts (STUPS contract): no shell metacharacters can pass. */
export const HOSTNAME_PATTERN = /^[a-z0-9.-]{0,255}$/;
/** Login names even grants (STUPS contract). */
export const USERNAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** The contract's lifetime range; a deployment narrows it with `maxLifetimeMinutes`. */
export const MAX_CONTRACT_LIFETIME_MINUTES = 525_600;
export const DEFAULT_LIFETIME_MINUTES = 60;

export const ACCESS_REQUEST_STATUSES = [
  'REQUESTED',
  'GRANTED',
  'DENIED',
  'FAILED',
  'EXPIRED',
  'REVOKED',
] as const;
export type AccessRequestStatus = (typeof ACCESS_REQUEST_STATUSES)[number];

/** STUPS clients may send numbers as strings ("60"). */
const wholeNumber = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), schema);

const Hostname = z
  .string()
  .min(1, 'is required')
  .regex(HOSTNAME_PATTERN, 'must match ^[a-z0-9.-]{0,255}$ (lowercase letters, digits, "." and "-")')
  .refine((h) => !h.startsWith('-') && !h.startsWith('.'), 'must not start with "-" or "."');

export const Username = z
  .string()
  .regex(USERNAME_PATTERN, 'must match ^[a-z][a-z0-9-]{0,31}$ (lowercase letters, digits and "-")');

/** `POST /access-requests`. Unknown attributes are rejected. */
export const AccessRequestBodySchema = z.strictObject({
  hostname: Hostname,
  username: Username.optional(),
  reason: z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'is required: say why you need access')
    .max(1000, 'must be at most 1000 characters')
    // PostgreSQL cannot store U+0000 in text: refused here rather than failing the insert.
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters'),
  remote_host: Hostname.optional().nullable(),
  lifetime_minutes: wholeNumber(
    z
      .number()
      .int('must be whole minutes')
      .min(1, 'must be at least 1 minute')
      .max(MAX_CONTRACT_LIFETIME_MINUTES, `must be at most ${MAX_CONTRACT_LIFETIME_MINUTES} minutes`),
  ).optional(),
});
export type AccessRequestBody = z.infer<typeof AccessRequestBodySchema>;

/** One access request as `GET /access-requests` returns it. */
export const AccessRequestSchema = z.object({
  id: z.number(),
  username: z.string(),
  hostname: z.string(),
  reason: z.string(),
  remote_host: z.string().nullable(),
  status: z.enum(ACCESS_REQUEST_STATUSES),
  status_reason: z.string().nullable(),
  lifetime_minutes: z.number(),
  /** When a grant ends (set once granted). */
  expires_at: z.string().nullable(),
  created: z.string(),
  created_by: z.string(),
  last_modified: z.string(),
  last_modified_by: z.string(),
});
export type AccessRequest = z.infer<typeof AccessRequestSchema>;

const isoTime = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO time, e.g. 2026-01-31T00:00:00Z')
  .transform((v) => new Date(v));

export const AccessRequestQuerySchema = z.object({
  username: Username.optional(),
  hostname: z.string().regex(HOSTNAME_PATTERN).optional(),
  status: z.enum(ACCESS_REQUEST_STATUSES).optional(),
  /** Created at or after. */
  from: isoTime.optional(),
  /** Created before. */
  to: isoTime.optional(),
  limit: wholeNumber(z.number().int().min(1).max(1000)).default(100),
  offset: wholeNumber(z.number().int().min(0)).default(0),
});
export type AccessRequestQuery = z.infer<typeof AccessRequestQuerySchema>;

/** The sentence original clients print and match on. */
export function grantedMessage(hostname: string, username: string): string {
  return `Access to host ${hostname} for user ${username} was granted.`;
}

/** A grant as other components (fullstop) read it: who could log in where, and when. */
export interface AccessGrant {
  id: number;
  username: string;
  /** The bastion the grant was made on. */
  hostname: string;
  /** The host behind the bastion the user was let onto; null: the bastion itself. */
  remote_host: string | null;
  /** When the grant started and ended (ISO); a revoked grant ends when it was revoked. */
  granted_at: string;
  ends_at: string;
  status: AccessRequestStatus;
}

/**
 * How other components read even's grants, the way `ApplicationDirectory` reads Kio:
 * read-only, no access control (the caller is the platform itself).
 */
export interface AccessGrantDirectory {
  /**
   * Grants of `username` whose live time overlaps [from, to] and that cover one of `hosts`:
   * the grant's bastion and its remote host (odd lets the user onto both).
   */
  grantsBetween(username: string, hosts: readonly string[], from: Date, to: Date): Promise<AccessGrant[]>;
}
