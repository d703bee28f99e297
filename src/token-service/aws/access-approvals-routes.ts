import type { Kysely } from 'kysely';
import { z } from 'zod';
import { principalOf, requireAuth } from '../../platform/auth/http-auth.js';
import { TeamPolicy } from '../../platform/authz/team-policy.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { AccessApprovals } from './access-approvals.js';
import { type AccessRequestRow, AccessRequestStore } from './access-approvals-store.js';
import type { AwsRoutesDeps } from './routes.js';

export const ACCESS_REQUESTS_PATH = '/aws/access-requests';

const STATES = ['pending', 'approved', 'rejected', 'expired'] as const;

export const AccessRequestSchema = z.object({
  id: z.string(),
  requester: z.string(),
  account_id: z.string(),
  team: z.string().nullable().describe('Owning team: its members (or a platform administrator) decide'),
  role_name: z.string(),
  role_arn: z.string(),
  reason: z.string(),
  state: z.enum(STATES),
  created: z.string().describe('ISO 8601'),
  expires: z
    .string()
    .describe('ISO 8601: when a pending request lapses, or when an approval ends (then `expired`)'),
  decided_by: z.string().nullable(),
  decided_at: z.string().nullable(),
  comment: z.string().nullable(),
});

export const AccessRequestInputSchema = z.strictObject({
  account: z.string().trim().min(1).max(200).describe('Account id or name (the owning team)'),
  role: z.string().trim().min(1).max(600).describe('Role name or role ARN'),
  reason: z.string().trim().min(1).max(500).describe('Why: shown to approvers and audited'),
});
const DecisionSchema = z.strictObject({ comment: z.string().trim().min(1).max(500).optional() });
const IdParams = z.object({ id: z.uuid('must be an access request id') });
const ListQuery = z.object({
  state: z.enum(STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * Access requests for roles that need a second approver (issue 19). Returns the gate the
 * issuing routes ask before they sign anything. Employees only: people ask and approve.
 */
export function registerAccessApprovalRoutes(app: HttpApp, deps: AwsRoutesDeps): AccessApprovals {
  const employees = requireAuth(deps.verifier, { realm: 'employees' });
  const accounts = deps.roles.accounts;
  const approvals = new AccessApprovals({
    store: new AccessRequestStore(deps.db as unknown as Kysely<never>),
    audit: deps.audit,
    roles: deps.roles,
    policy: new TeamPolicy({
      teams: {
        isMember: async (team, uid) => (await accounts.teamsOfMember(uid)).some((t) => t.id === team),
      },
      // Only employees reach these routes: no service acts for a team here.
      applications: { getApplication: async () => undefined },
      adminPolicy: deps.roles.adminPolicy,
    }),
    settings: deps.settings.secondApprover,
    now: deps.now,
  });
  const view = (row: AccessRequestRow) => ({
    id: row.id,
    requester: row.uid,
    account_id: row.account_id,
    team: row.team,
    role_name: row.role_name,
    role_arn: row.role_arn,
    reason: row.reason,
    state: approvals.stateOf(row),
    created: row.created_at.toISOString(),
    expires: row.expires_at.toISOString(),
    decided_by: row.decided_by,
    decided_at: row.decided_at?.toISOString() ?? null,
    comment: row.comment,
  });
  const tags = { tags: ['aws'], security: [{ bearer: [] }] };

  app.post(
    ACCESS_REQUESTS_PATH,
    {
      preHandler: employees,
      config: deps.audit.route('token-service.aws_access_request.create'),
      schema: {
        ...tags,
        summary: 'Ask for a role that needs a second approver; your pending request if one exists (200)',
        body: AccessRequestInputSchema,
        response: { 200: AccessRequestSchema, 201: AccessRequestSchema },
      },
    },
    async (request, reply) => {
      const { request: row, created } = await approvals.request(
        principalOf(request),
        request.body,
        request.id,
      );
      reply.code(created ? 201 : 200);
      return view(row);
    },
  );

  app.get(
    ACCESS_REQUESTS_PATH,
    {
      preHandler: employees,
      schema: {
        ...tags,
        summary:
          'Your access requests and those you may decide, newest first (`?state=pending` for approvers)',
        querystring: ListQuery,
        response: { 200: z.array(AccessRequestSchema) },
      },
    },
    async (request) =>
      (await approvals.list(principalOf(request), request.query.state, request.query.limit)).map(view),
  );

  app.get(
    `${ACCESS_REQUESTS_PATH}/:id`,
    {
      preHandler: employees,
      schema: {
        ...tags,
        summary: 'One access request (its requester and its approvers)',
        params: IdParams,
        response: { 200: AccessRequestSchema },
      },
    },
    async (request) => view(await approvals.get(principalOf(request), request.params.id)),
  );

  for (const [path, verdict, event] of [
    ['approval', 'approved', 'token-service.aws_access_request.approve'],
    ['rejection', 'rejected', 'token-service.aws_access_request.reject'],
  ] as const) {
    app.post(
      `${ACCESS_REQUESTS_PATH}/:id/${path}`,
      {
        preHandler: employees,
        config: deps.audit.route(event),
        schema: {
          ...tags,
          summary:
            verdict === 'approved'
              ? "Approve someone else's pending request (a member of the owning team or a platform administrator)"
              : "Reject someone else's pending request (a member of the owning team or a platform administrator)",
          params: IdParams,
          body: DecisionSchema.nullish(),
          response: { 200: AccessRequestSchema },
        },
      },
      async (request) =>
        view(
          await approvals.decide(
            principalOf(request),
            request.params.id,
            verdict,
            request.body?.comment ?? null,
            request.id,
          ),
        ),
    );
  }

  return approvals;
}
