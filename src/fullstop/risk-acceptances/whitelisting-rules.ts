import { z } from 'zod';
import type { Audit } from '../../platform/audit/create-audit.js';
import { principalOf, requireAuth } from '../../platform/auth/http-auth.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { TeamDirectory } from '../../teams/contract.js';
import { AccountIdSchema, InstantSchema, RegionSchema } from '../contract.js';
import type { FullstopEvent } from '../events.js';
import {
  AcceptanceStatusSchema,
  type Criteria,
  CriteriaSchema,
  type NewRiskAcceptance,
  type RiskAcceptance,
} from './contract.js';
import { fieldError } from './matcher.js';
import type { RiskAcceptanceService } from './service.js';

/**
 * STUPS' whitelisting rules (`/api/whitelisting-rules`), kept for its clients, as a view of our
 * risk acceptances: there is no second store. A rule is an acceptance whose criteria hold one
 * value each; an acceptance with several values per criterion shows them in `criteria`.
 */

const DAY_MS = 86_400_000;

/** STUPS ignored blank criteria: an empty string is "not given". */
const blankIsAbsent = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess(
    (v) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v),
    schema.optional(),
  );

/** A rule as STUPS clients send it; other fields they send (`id`, `version`, …) are ignored. */
export const WhitelistingRuleInputSchema = z.object({
  account_id: blankIsAbsent(AccountIdSchema),
  region: blankIsAbsent(RegionSchema),
  violation_type_entity_id: blankIsAbsent(z.string().min(1).max(100)),
  image_name: blankIsAbsent(z.string().min(1).max(500)),
  image_owner: blankIsAbsent(AccountIdSchema),
  application_id: blankIsAbsent(z.string().min(1).max(200)),
  application_version: blankIsAbsent(z.string().min(1).max(200)),
  meta_info_json_path: blankIsAbsent(z.string().min(1).max(500)),
  reason: z.string().trim().min(1, 'the reason must not be empty').max(10_000),
  expiry_date: blankIsAbsent(InstantSchema),
});
export type WhitelistingRuleInput = z.infer<typeof WhitelistingRuleInputSchema>;

export const WhitelistingRuleSchema = z.object({
  id: z.number().int(),
  account_id: z.string().nullable(),
  region: z.string().nullable(),
  violation_type_entity_id: z.string().nullable(),
  image_name: z.string().nullable(),
  image_owner: z.string().nullable(),
  application_id: z.string().nullable(),
  application_version: z.string().nullable(),
  meta_info_json_path: z.string().nullable(),
  reason: z.string(),
  expiry_date: z.string(),
  created: z.string(),
  created_by: z.string(),
  last_modified: z.string(),
  last_modified_by: z.string(),
  // Ours, beyond STUPS: the owning team, the state, and the full criteria.
  team: z.string(),
  status: AcceptanceStatusSchema,
  criteria: CriteriaSchema,
});
export type WhitelistingRule = z.infer<typeof WhitelistingRuleSchema>;

const only = (values: readonly string[] | undefined): string | null =>
  values?.length === 1 ? values[0]! : null;

/** An acceptance as a STUPS rule. `expiry_date` is when it stops (or stopped) applying. */
export function toWhitelistingRule(a: RiskAcceptance): WhitelistingRule {
  const c = a.criteria;
  return {
    id: a.id,
    account_id: only(c.accounts),
    region: only(c.regions),
    violation_type_entity_id: only(c.types),
    image_name: c.image_name ?? null,
    image_owner: c.image_owner ?? null,
    application_id: c.application_id ?? null,
    application_version: c.application_version ?? null,
    meta_info_json_path: c.meta_info ?? null,
    reason: a.reason,
    expiry_date: a.expired_at ?? a.expires,
    created: a.created,
    created_by: a.created_by,
    last_modified: a.expired_at ?? a.created,
    last_modified_by: a.expired_by ?? a.created_by,
    team: a.team,
    status: a.status,
    criteria: c,
  };
}

/**
 * A STUPS rule as a new acceptance. Differences from STUPS: `expiry_date` is required (no
 * 9999 default), `account_id` is required because it names the owning team.
 */
export async function toNewAcceptance(
  rule: WhitelistingRuleInput,
  deps: { teams: Pick<TeamDirectory, 'teamOfAccount'>; maxLifetimeDays: number; now: Date },
): Promise<NewRiskAcceptance> {
  const max = deps.maxLifetimeDays;
  const latest = new Date(deps.now.getTime() + max * DAY_MS);
  if (rule.expiry_date === undefined) {
    throw fieldError(
      'expiry_date',
      `expiry_date is required, at most ${max} days ahead (until ${latest.toISOString()}): rules end, and are renewed on purpose`,
      'EXPIRES_REQUIRED',
    );
  }
  if (rule.expiry_date <= deps.now) {
    throw fieldError('expiry_date', 'expiry_date must be in the future', 'EXPIRES_INVALID');
  }
  if (rule.expiry_date > latest) {
    throw fieldError(
      'expiry_date',
      `expiry_date must be at most ${max} days ahead (until ${latest.toISOString()}, fullstop.riskAcceptances.maxLifetimeDays)`,
      'EXPIRES_TOO_LATE',
    );
  }
  if (rule.account_id === undefined) {
    throw fieldError(
      'account_id',
      'account_id is required: it names the team owning the rule',
      'ACCOUNT_REQUIRED',
    );
  }
  const owner = await deps.teams.teamOfAccount(rule.account_id);
  if (!owner) {
    throw fieldError('account_id', `account ${rule.account_id} belongs to no team`, 'ACCOUNT_WITHOUT_TEAM');
  }
  const criteria: Criteria = { accounts: [rule.account_id] };
  if (rule.region !== undefined) criteria.regions = [rule.region];
  if (rule.violation_type_entity_id !== undefined) criteria.types = [rule.violation_type_entity_id];
  if (rule.image_name !== undefined) criteria.image_name = rule.image_name;
  if (rule.image_owner !== undefined) criteria.image_owner = rule.image_owner;
  if (rule.application_id !== undefined) criteria.application_id = rule.application_id;
  if (rule.application_version !== undefined) criteria.application_version = rule.application_version;
  if (rule.meta_info_json_path !== undefined) criteria.meta_info = rule.meta_info_json_path;
  return { criteria, reason: rule.reason, team: owner.id, expires: rule.expiry_date };
}

const IdParams = z.object({ id: z.string().min(1).max(40) });
const ListQuery = z.object({ status: z.enum(['active', 'expired', 'all']).default('all') });
const DeleteQuery = z.object({ expiryDate: InstantSchema.optional() });

/** `/api/whitelisting-rules`: the STUPS CRUD, through the risk acceptance service (same checks, same audit). */
export function registerWhitelistingRuleRoutes(
  app: HttpApp,
  deps: {
    acceptances: RiskAcceptanceService;
    teams: Pick<TeamDirectory, 'teamOfAccount'>;
    verifier: TokenVerifier;
    audit: Audit<FullstopEvent>;
  },
): void {
  const { acceptances } = deps;
  const authenticated = requireAuth(deps.verifier);
  const common = { tags: ['whitelisting-rules'], security: [{ bearer: [] }] };
  const newAcceptance = (rule: WhitelistingRuleInput) =>
    toNewAcceptance(rule, {
      teams: deps.teams,
      maxLifetimeDays: acceptances.maxLifetimeDays,
      now: acceptances.now(),
    });

  app.get(
    '/api/whitelisting-rules',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary:
          'Whitelisting rules (STUPS): the risk acceptances, newest first (`status`: all (default), active, expired)',
        querystring: ListQuery,
        response: { 200: z.array(WhitelistingRuleSchema) },
      },
    },
    async (request) => (await acceptances.list({ status: request.query.status })).map(toWhitelistingRule),
  );

  app.get(
    '/api/whitelisting-rules/:id',
    {
      preHandler: authenticated,
      schema: {
        ...common,
        summary: 'One whitelisting rule (a risk acceptance)',
        params: IdParams,
        response: { 200: WhitelistingRuleSchema },
      },
    },
    async (request) => toWhitelistingRule(await acceptances.get(request.params.id)),
  );

  app.post(
    '/api/whitelisting-rules',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.risk_acceptance.create'),
      schema: {
        ...common,
        summary: 'Create a whitelisting rule: a risk acceptance for the team owning `account_id`',
        description:
          'Unlike STUPS: `account_id` is required (its team owns the rule), `expiry_date` is required ' +
          '(at most `fullstop.riskAcceptances.maxLifetimeDays` ahead), and the rule also covers the ' +
          'matching violations already stored.',
        body: WhitelistingRuleInputSchema,
        response: { 201: WhitelistingRuleSchema },
      },
    },
    async (request, reply) => {
      const created = await acceptances.create(
        principalOf(request),
        await newAcceptance(request.body),
        request.id,
      );
      reply.status(201).header('location', `/api/whitelisting-rules/${created.id}`);
      return toWhitelistingRule(created);
    },
  );

  app.put(
    '/api/whitelisting-rules/:id',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.risk_acceptance.create'),
      schema: {
        ...common,
        summary: 'Replace a whitelisting rule: ends it now and creates a new one (answered)',
        params: IdParams,
        body: WhitelistingRuleInputSchema,
        response: { 200: WhitelistingRuleSchema },
      },
    },
    async (request) =>
      toWhitelistingRule(
        await acceptances.replace(
          principalOf(request),
          request.params.id,
          await newAcceptance(request.body),
          request.id,
        ),
      ),
  );

  app.delete(
    '/api/whitelisting-rules/:id',
    {
      preHandler: authenticated,
      config: deps.audit.route('fullstop.risk_acceptance.shorten'),
      schema: {
        ...common,
        summary: 'End a whitelisting rule at `expiryDate` (future, and not later than its current expiry)',
        params: IdParams,
        querystring: DeleteQuery,
        response: { 200: WhitelistingRuleSchema },
      },
    },
    async (request) => {
      const { expiryDate } = request.query;
      if (expiryDate === undefined) {
        throw fieldError('expiryDate', 'expiryDate is required: when the rule ends', 'EXPIRES_REQUIRED');
      }
      return toWhitelistingRule(
        await acceptances.shorten(
          principalOf(request),
          request.params.id,
          expiryDate,
          request.id,
          'expiryDate',
        ),
      );
    },
  );
}
