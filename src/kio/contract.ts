import { z } from 'zod';
import { bigintCursor } from '../platform/http/cursor-schemas.js';

/**
 * How other components (Pier One, mint, fullstop, the console) ask Kio about applications.
 * The full HTTP contract (schemas) lives beside this interface.
 */
export interface ApplicationSummary {
  id: string;
  team_id: string;
  active: boolean;
  name: string;
  /** Where the source lives (fullstop compares it with the images' scm-source.json). */
  scm_url?: string | null;
}

export interface ApplicationDirectory {
  getApplication(id: string): Promise<ApplicationSummary | undefined>;
}

/** Application ids as the original Kio validated them; they end up in DNS names and bucket paths. */
export const APPLICATION_ID_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;

export const ApplicationIdSchema = z
  .string()
  .max(100, 'must be at most 100 characters')
  .regex(APPLICATION_ID_PATTERN, 'must match ^[a-z][a-z0-9-]*[a-z0-9]$ (lowercase letters, digits, dashes)');

/** Size limits of the text fields, so that one application cannot bloat every list answer. */
export const LIMITS = {
  name: 200,
  subtitle: 500,
  /** UTF-8 bytes. */
  descriptionBytes: 10 * 1024,
  url: 2000,
  teamId: 128,
  incidentContact: 500,
  specificationType: 100,
} as const;

/** STUPS clients send booleans as `"true"`/`"false"` too; `z.coerce` would turn `"false"` into true. */
export const LenientBoolean = z.union([
  z.boolean(),
  z
    .string()
    .regex(/^(true|false)$/i, 'must be true or false')
    .transform((value) => value.toLowerCase() === 'true'),
]);

/** An integer, also when sent as a string (`"2"`); booleans and blanks stay invalid. */
export function lenientInt(min: number, max: number) {
  return z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\s*-?\d+\s*$/, 'must be an integer')
        .transform((value) => Number(value)),
    ])
    .pipe(z.int().min(min).max(max));
}

/** `http(s)://…` only: these links are rendered in the console and must not be `javascript:` URLs. */
export const HttpUrlSchema = z
  .string()
  .max(LIMITS.url)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

/**
 * An optional text field of a PUT body: `null` means "leave unchanged" (the STUPS rule),
 * the empty string clears the field.
 */
function optionalText<T extends z.ZodType<string>>(schema: T) {
  return z.union([z.literal(''), schema]).nullish();
}

const descriptionSchema = z
  .string()
  .refine(
    (value) => Buffer.byteLength(value, 'utf8') <= LIMITS.descriptionBytes,
    `must be at most ${LIMITS.descriptionBytes} bytes`,
  );

/**
 * Body of `PUT /apps/{id}`. Every field GET returns is accepted back (server-set and search
 * fields are ignored), unknown fields are rejected. Absent and `null` fields keep their value.
 */
export const ApplicationPutSchema = z.strictObject({
  id: ApplicationIdSchema.nullish(),
  team_id: z.string().min(1).max(LIMITS.teamId).nullish(),
  active: LenientBoolean.nullish(),
  name: z.string().trim().min(1, 'must not be empty').max(LIMITS.name).nullish(),
  subtitle: optionalText(z.string().max(LIMITS.subtitle)),
  description: optionalText(descriptionSchema),
  service_url: optionalText(HttpUrlSchema),
  scm_url: optionalText(HttpUrlSchema),
  documentation_url: optionalText(HttpUrlSchema),
  specification_url: optionalText(HttpUrlSchema),
  support_url: optionalText(HttpUrlSchema),
  specification_type: optionalText(z.string().max(LIMITS.specificationType)),
  criticality_level: lenientInt(1, 4).nullish(),
  publicly_accessible: LenientBoolean.nullish(),
  incident_contact: optionalText(z.string().max(LIMITS.incidentContact)),
  required_approvers: lenientInt(1, 10).nullish(),
  // Server-set and search-only fields: accepted so that a GET body can be PUT back, then ignored.
  created: z.string().nullish(),
  created_by: z.string().nullish(),
  last_modified: z.string().nullish(),
  last_modified_by: z.string().nullish(),
  matched_rank: z.number().nullish(),
  matched_description: z.string().nullish(),
});
export type ApplicationPut = z.infer<typeof ApplicationPutSchema>;

/** The fields a writer controls; everything else is server-set. */
export const EDITABLE_FIELDS = [
  'team_id',
  'active',
  'name',
  'subtitle',
  'description',
  'service_url',
  'scm_url',
  'documentation_url',
  'specification_url',
  'support_url',
  'specification_type',
  'criticality_level',
  'publicly_accessible',
  'incident_contact',
  'required_approvers',
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

/** An application as list answers carry it. */
export const ApplicationSchema = z.object({
  id: z.string(),
  team_id: z.string(),
  active: z.boolean(),
  name: z.string(),
  subtitle: z.string().nullable(),
  description: z.string().nullable(),
  service_url: z.string().nullable(),
  scm_url: z.string().nullable(),
  documentation_url: z.string().nullable(),
  specification_url: z.string().nullable(),
  support_url: z.string().nullable(),
  specification_type: z.string().nullable(),
  criticality_level: z.number().int(),
  publicly_accessible: z.boolean(),
  incident_contact: z.string().nullable(),
  /** `2015-04-25T16:25:00.000Z` */
  created: z.string(),
  created_by: z.string(),
  last_modified: z.string(),
  last_modified_by: z.string(),
});
export type Application = z.infer<typeof ApplicationSchema>;

/** Single-application answers add `required_approvers`. */
export const ApplicationDetailSchema = ApplicationSchema.extend({ required_approvers: z.number().int() });
export type ApplicationDetail = z.infer<typeof ApplicationDetailSchema>;

/** A search hit: the application plus its rank and a snippet of the description around the match. */
export const ApplicationSearchHitSchema = ApplicationSchema.extend({
  matched_rank: z.number(),
  matched_description: z.string(),
});
export type ApplicationSearchHit = z.infer<typeof ApplicationSearchHitSchema>;

export const ApplicationListQuerySchema = z.strictObject({
  search: z.string().trim().min(1).max(500).optional(),
  team_id: z.string().max(LIMITS.teamId).optional(),
  incident_contact: z.string().max(LIMITS.incidentContact).optional(),
  active: LenientBoolean.optional(),
  modified_before: z.iso.datetime({ offset: true }).optional(),
  modified_after: z.iso.datetime({ offset: true }).optional(),
  /** Paging is opt-in: without `limit` a plain listing returns every match (the kio CLI filters locally). */
  limit: lenientInt(1, 10_000).optional(),
  offset: lenientInt(0, 10_000_000).optional(),
});
export type ApplicationListQuery = z.infer<typeof ApplicationListQuerySchema>;

/** One entry of `GET /apps/{id}/history`: who changed which fields, old → new. */
export const ApplicationChangeSchema = z.object({
  id: z.string(),
  application_id: z.string(),
  action: z.enum(['create', 'update']),
  changed_at: z.string(),
  changed_by: z.string(),
  changed_by_realm: z.string().nullable(),
  changes: z.record(z.string(), z.object({ old: z.unknown(), new: z.unknown() })),
});
export type ApplicationChange = z.infer<typeof ApplicationChangeSchema>;

/** The largest page of `GET /apps/{id}/history`; the default is `HISTORY_DEFAULT_LIMIT`. */
export const HISTORY_MAX_LIMIT = 1000;
export const HISTORY_DEFAULT_LIMIT = 100;

/** Keyset paging of `GET /apps/{id}/history`: `before` is the `id` of the last entry already seen. */
export const ApplicationHistoryQuerySchema = z.strictObject({
  limit: lenientInt(1, HISTORY_MAX_LIMIT).default(HISTORY_DEFAULT_LIMIT),
  before: bigintCursor('the id of a history entry').optional(),
});
export type ApplicationHistoryQuery = z.input<typeof ApplicationHistoryQuerySchema>;

/** A text field of the original Kio's version and approval bodies: read, bounded, never stored. */
const deprecatedText = z.string().max(LIMITS.url).nullish();

/**
 * Body of the deprecated `PUT /apps/{id}/versions/{version}`: the original Kio's version
 * (`artifact`, `notes`, and whatever a GET of it returned). Accepted and ignored; it is still
 * checked, as the original did, so a script sending something else learns it.
 */
export const DeprecatedVersionPutSchema = z
  .strictObject({
    id: deprecatedText,
    application_id: deprecatedText,
    artifact: deprecatedText,
    notes: deprecatedText,
    created: deprecatedText,
    created_by: deprecatedText,
    last_modified: deprecatedText,
    last_modified_by: deprecatedText,
  })
  .nullish();

/** Body of the deprecated `POST /apps/{id}/versions/{version}/approvals`; accepted and ignored. */
export const DeprecatedApprovalPostSchema = z
  .strictObject({
    application_id: deprecatedText,
    version_id: deprecatedText,
    approval_type: deprecatedText,
    user_id: deprecatedText,
    approved_at: deprecatedText,
    notes: deprecatedText,
  })
  .nullish();
