import { z } from 'zod';
import { lenientBoolean } from '../platform/http/lenient-schemas.js';

/** Severity 0 (lowest) … 4 (highest), as STUPS. */
export const SeveritySchema = z.number().int().min(0).max(4);
/** Priority 1 (highest) … 4 (lowest), as STUPS. */
export const PrioritySchema = z.number().int().min(1).max(4);

/** A violation type as `GET /api/violation-types` and every violation carry it. */
export const ViolationTypeSchema = z.object({
  id: z.string(),
  help_text: z.string(),
  violation_severity: SeveritySchema,
  audit_relevant: z.boolean(),
  title: z.string(),
  priority: PrioritySchema,
});
export type ViolationType = z.infer<typeof ViolationTypeSchema>;

/** A violation on the wire, field for field as fullstop. answered it. */
export const ViolationSchema = z.object({
  id: z.number().int(),
  version: z.number().int(),
  event_id: z.string(),
  account_id: z.string(),
  region: z.string(),
  meta_info: z.unknown(),
  comment: z.string().nullable(),
  instance_id: z.string().nullable(),
  violation_type: ViolationTypeSchema,
  /** When fullstop stored it (STUPS: server-set); `from`, `to` and the trend go by it. */
  created: z.string(),
  created_by: z.string(),
  /** When the event behind it happened (CloudTrail eventTime, login, boot, periodic run); null: not known. */
  event_time: z.string().nullable(),
  last_modified: z.string(),
  last_modified_by: z.string(),
  username: z.string().nullable(),
  rule_id: z.number().int().nullable(),
  application_id: z.string().nullable(),
  application_version_id: z.string().nullable(),
});
export type Violation = z.infer<typeof ViolationSchema>;

/** The Spring Data page shape STUPS clients read (`content`, `totalElements`, …). */
export const ViolationPageSchema = z.object({
  content: z.array(ViolationSchema),
  totalElements: z.number().int(),
  totalPages: z.number().int(),
  first: z.boolean(),
  last: z.boolean(),
  number: z.number().int(),
  size: z.number().int(),
  numberOfElements: z.number().int(),
  sort: z.array(
    z.object({ direction: z.enum(['ASC', 'DESC']), property: z.string(), ascending: z.boolean() }),
  ),
});
export type ViolationPage = z.infer<typeof ViolationPageSchema>;

export const MAX_PAGE_SIZE = 1000;

/** Columns a client may sort by (`sort=id,DESC`). */
export const SORTABLE = ['id', 'created', 'last_modified', 'account_id', 'region'] as const;
export type SortProperty = (typeof SORTABLE)[number];

/**
 * `2015-05-21T12:34:56.123456Z` (microseconds, as Python clients send), any ISO 8601 date
 * with an offset, or a plain date. Parsed by `Date`, which ignores digits past the millisecond,
 * after cutting them off so that every runtime reads the same instant.
 */
export const InstantSchema = z.string().transform((raw, ctx) => {
  const trimmed = raw
    .trim()
    .replace(/(\.\d{3})\d+/, '$1')
    .replace(' ', '+');
  const parsed = new Date(
    /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(trimmed) ? `${trimmed}Z` : trimmed,
  );
  if (Number.isNaN(parsed.getTime())) {
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not an ISO 8601 date and time` });
    return z.NEVER;
  }
  return parsed;
});

/** `a,b` or repeated `accounts=a&accounts=b`; both at once too. */
const commaList = z.union([z.string(), z.array(z.string())]).transform((v) =>
  (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);

const intList = commaList.pipe(z.array(z.string().regex(/^\d+$/).transform(Number)));

/** `GET /api/violations` parameters; unknown ones are ignored (the schema is not strict). */
export const ViolationQuerySchema = z.object({
  accounts: commaList.optional(),
  from: InstantSchema.optional(),
  to: InstantSchema.optional(),
  'last-violation': z.coerce.number().int().optional(),
  checked: lenientBoolean.optional(),
  severity: intList.optional(),
  priority: intList.optional(),
  'audit-relevant': lenientBoolean.optional(),
  type: commaList.optional(),
  'application-ids': commaList.optional(),
  'application-version-ids': commaList.optional(),
  'instance-ids': commaList.optional(),
  whitelisted: lenientBoolean.optional(),
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(10),
  sort: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v, ctx) => {
      const raw = (Array.isArray(v) ? v[0] : v) ?? 'id,ASC';
      const [property = 'id', direction = 'ASC'] = raw.split(',').map((s) => s.trim());
      const dir = direction.toUpperCase();
      const prop = SORTABLE.find((p) => p === property);
      if (!prop || (dir !== 'ASC' && dir !== 'DESC')) {
        ctx.addIssue({
          code: 'custom',
          message: `sort must be <property>,ASC|DESC with a property of ${SORTABLE.join(', ')}`,
        });
        return z.NEVER;
      }
      return { property: prop, direction: dir } as const;
    }),
});
export type ViolationQuery = z.output<typeof ViolationQuerySchema>;

export const AccountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const RegionSchema = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region, e.g. eu-west-1');

/** `POST /api/violations`: what a trusted service reports (scope `fullstop.violation.write`). */
export const NewViolationSchema = z.object({
  event_id: z.string().min(1).max(200),
  account_id: AccountIdSchema,
  region: RegionSchema,
  violation_type: z.union([z.string().min(1), z.object({ id: z.string().min(1) })]),
  instance_id: z.string().max(200).nullish(),
  meta_info: z.unknown().optional(),
  username: z.string().max(200).nullish(),
  application_id: z.string().max(200).nullish(),
  application_version_id: z.string().max(200).nullish(),
});
export type NewViolation = z.infer<typeof NewViolationSchema>;

export const LogTypeSchema = z.enum(['USER_DATA', 'AUDIT_LOG']);

/** `POST /api/instance-logs`, as Taupage's `00-push-taupage-yaml.py` sends it. */
export const InstanceLogSchema = z.object({
  account_id: AccountIdSchema,
  region: RegionSchema,
  instance_boot_time: z.string().min(1).max(100),
  instance_id: z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id'),
  log_data: z.base64().max(4 * 1024 * 1024),
  log_type: LogTypeSchema,
});
export type InstanceLog = z.infer<typeof InstanceLogSchema>;

export const ViolationCountSchema = z.array(
  z.object({ account: z.string(), type: z.string(), quantity: z.number().int() }),
);
