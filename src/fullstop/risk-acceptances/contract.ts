import { z } from 'zod';
import { TeamIdSchema } from '../../teams/contract.js';
import { AccountIdSchema, InstantSchema, RegionSchema, ViolationSchema } from '../contract.js';

/** Patterns are typed by people; the limit keeps an accidental paste (and a costly regex) out. */
const PATTERN_MAX = 500;

/**
 * What an acceptance covers. Every given criterion must match (AND); a list matches any of its
 * elements. `image_name` is a regular expression, `meta_info` a JSONPath filter (jsonpath-plus).
 */
export const CriteriaSchema = z
  .strictObject({
    accounts: z.array(AccountIdSchema).min(1).max(1000).optional(),
    regions: z.array(RegionSchema).min(1).max(100).optional(),
    types: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
    image_name: z.string().min(1).max(PATTERN_MAX).optional(),
    image_owner: AccountIdSchema.optional(),
    application_id: z.string().min(1).max(200).optional(),
    application_version: z.string().min(1).max(200).optional(),
    meta_info: z.string().min(1).max(PATTERN_MAX).optional(),
  })
  .refine((c) => Object.keys(c).length > 0, {
    message:
      'give at least one criterion: accounts, regions, types, image_name, image_owner, application_id, application_version or meta_info',
  });
export type Criteria = z.infer<typeof CriteriaSchema>;

/** `POST /api/risk-acceptances`. */
export const NewRiskAcceptanceSchema = z.strictObject({
  criteria: CriteriaSchema,
  reason: z.string().trim().min(1, 'the reason must not be empty').max(10_000),
  team: TeamIdSchema,
  expires: InstantSchema,
});
export type NewRiskAcceptance = z.infer<typeof NewRiskAcceptanceSchema>;

/** `POST /api/risk-acceptances/dry-run`: what a create would cover, without storing anything. */
export const DryRunSchema = z.strictObject({ criteria: CriteriaSchema, team: TeamIdSchema });
export type DryRun = z.infer<typeof DryRunSchema>;

export const DRY_RUN_SAMPLE = 20;

export const DryRunResultSchema = z.object({
  matching: z.number().int(),
  sample: z.array(ViolationSchema).max(DRY_RUN_SAMPLE),
});
export type DryRunResult = z.infer<typeof DryRunResultSchema>;

export const ExpireSchema = z
  .strictObject({ reason: z.string().trim().min(1).max(10_000).optional() })
  .optional();

export const AcceptanceStatusSchema = z.enum(['active', 'expired']);

/** An acceptance on the wire. `covered_violations`: covered now (active) or when it expired. */
export const RiskAcceptanceSchema = z.object({
  id: z.number().int(),
  criteria: CriteriaSchema,
  reason: z.string(),
  team: z.string(),
  created: z.string(),
  created_by: z.string(),
  expires: z.string(),
  expired_at: z.string().nullable(),
  expired_by: z.string().nullable(),
  status: AcceptanceStatusSchema,
  covered_violations: z.number().int(),
});
export type RiskAcceptance = z.infer<typeof RiskAcceptanceSchema>;

export const RiskAcceptanceQuerySchema = z.object({
  team: TeamIdSchema.optional(),
  status: z.enum(['active', 'expired', 'all']).default('active'),
});
export type RiskAcceptanceQuery = z.infer<typeof RiskAcceptanceQuerySchema>;
