import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createAudit } from '../platform/audit/create-audit.js';
import { requestAudit } from '../platform/audit/request-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import { TeamPolicy } from '../platform/authz/team-policy.js';
import { NotFoundError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { UidSchema } from '../users/contract.js';
import {
  AwsAccountIdSchema,
  AwsAccountSchema,
  PutAwsAccountSchema,
  PutTeamSchema,
  TeamIdSchema,
  TeamSchema,
  TeamSummarySchema,
} from './contract.js';
import { TEAMS_EVENTS } from './events.js';
import type { TeamStore } from './store.js';

const bearer = [{ bearer: [] }];
const TeamParams = z.object({ id: TeamIdSchema });
const MemberQuery = z.object({ member: UidSchema.optional() });

/**
 * The team service, in both forms STUPS consumers use: the original `/teams`, `/user/{uid}`
 * and the newer `/api/teams`, `/api/accounts/aws`. Reads need any valid token; writes are
 * for platform administrators.
 */
export function registerTeamRoutes(app: HttpApp, ctx: ServiceContext, teams: TeamStore): void {
  const authenticated = requireAuth(ctx.verifier);
  const audit = createAudit(ctx.auditLog, 'teams', TEAMS_EVENTS);
  auditRefusals(app, audit);
  const policy = new TeamPolicy({
    teams,
    applications: { getApplication: async () => undefined },
    adminPolicy: ctx.adminPolicy,
  });
  const requireAdmin = (request: FastifyRequest) =>
    policy.assertAdmin(principalOf(request), 'change teams and accounts');
  const auditIn = requestAudit(audit);
  const mustExist = async (id: string) => {
    const team = await teams.getTeam(id);
    if (!team) throw new NotFoundError(`team ${id} does not exist`);
    return team;
  };

  for (const prefix of ['', '/api']) {
    app.get(
      `${prefix}/teams`,
      {
        preHandler: authenticated,
        schema: {
          summary: 'List teams (optionally those of one member)',
          tags: ['teams'],
          security: bearer,
          querystring: MemberQuery,
          response: { 200: z.array(TeamSummarySchema) },
        },
      },
      async (request) =>
        (await teams.listTeams({ member: request.query.member })).map(({ id, name, type, description }) => ({
          id,
          name,
          type,
          description,
        })),
    );
    app.get(
      `${prefix}/teams/:id`,
      {
        preHandler: authenticated,
        schema: {
          summary: 'One team with members and AWS accounts',
          tags: ['teams'],
          security: bearer,
          params: TeamParams,
          response: { 200: TeamSchema },
        },
      },
      async (request) => mustExist(request.params.id),
    );
  }

  app.get(
    '/user/:uid',
    {
      preHandler: authenticated,
      schema: {
        summary: 'Teams of a user (original team service route)',
        tags: ['teams'],
        security: bearer,
        params: z.object({ uid: UidSchema }),
        response: { 200: z.array(TeamSchema) },
      },
    },
    async (request) => teams.teamsOfMember(request.params.uid),
  );

  app.put(
    '/api/teams/:id',
    {
      preHandler: authenticated,
      config: audit.route('teams.team.put'),
      schema: {
        summary: 'Create or replace a team (administrators)',
        tags: ['teams'],
        security: bearer,
        params: TeamParams,
        body: PutTeamSchema,
        response: { 200: TeamSchema, 201: TeamSchema },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { created, team } = await teams.putTeam(request.params.id, request.body, (trx, result) =>
        auditIn(request, 'teams.team.put', request.params.id, {
          created: result.created,
          name: result.team.name,
          members: result.team.members,
          aws_accounts: result.team.aws_accounts,
        })(trx),
      );
      reply.status(created ? 201 : 200);
      return team;
    },
  );

  app.delete(
    '/api/teams/:id',
    {
      preHandler: authenticated,
      config: audit.route('teams.team.delete'),
      schema: {
        summary: 'Delete a team (administrators)',
        tags: ['teams'],
        security: bearer,
        params: TeamParams,
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      await teams.deleteTeam(request.params.id, auditIn(request, 'teams.team.delete', request.params.id));
      reply.status(204);
    },
  );

  const MemberParams = z.object({ id: TeamIdSchema, uid: UidSchema });
  app.put(
    '/api/teams/:id/members/:uid',
    {
      preHandler: authenticated,
      config: audit.route('teams.member.add'),
      schema: {
        summary: 'Add a member (administrators)',
        tags: ['teams'],
        security: bearer,
        params: MemberParams,
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { id, uid } = request.params;
      await teams.addMember(id, uid, auditIn(request, 'teams.member.add', `${id}/${uid}`));
      reply.status(204);
    },
  );
  app.delete(
    '/api/teams/:id/members/:uid',
    {
      preHandler: authenticated,
      config: audit.route('teams.member.remove'),
      schema: {
        summary: 'Remove a member (administrators)',
        tags: ['teams'],
        security: bearer,
        params: MemberParams,
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { id, uid } = request.params;
      await teams.removeMember(id, uid, auditIn(request, 'teams.member.remove', `${id}/${uid}`));
      reply.status(204);
    },
  );

  app.get(
    '/api/accounts/aws',
    {
      preHandler: authenticated,
      schema: {
        summary: 'AWS accounts and their owning teams',
        tags: ['accounts'],
        security: bearer,
        querystring: MemberQuery,
        response: { 200: z.array(AwsAccountSchema) },
      },
    },
    async (request) => teams.listAccounts({ member: request.query.member }),
  );

  app.put(
    '/api/accounts/aws/:id',
    {
      preHandler: authenticated,
      config: audit.route('teams.account.put'),
      schema: {
        summary: 'Create or update an AWS account record (administrators)',
        tags: ['accounts'],
        security: bearer,
        params: z.object({ id: AwsAccountIdSchema }),
        body: PutAwsAccountSchema,
        response: { 200: AwsAccountSchema },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { id } = request.params;
      return teams.putAccount(
        id,
        request.body,
        auditIn(request, 'teams.account.put', id, { ...request.body }),
      );
    },
  );
}
