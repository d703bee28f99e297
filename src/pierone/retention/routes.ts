import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../../platform/auth/http-auth.js';
import { formatTimestamp } from '../../platform/db/timestamps.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import type { PierOneAudit } from '../access.js';
import type { PierOneConfig } from '../config.js';
import { NameSchema } from '../contract.js';
import type { Retention } from './retention.js';
import { apiGuards } from '../route-guards.js';
import {
  RetentionPlanSchema,
  type RetentionRule,
  RetentionRuleInputSchema,
  RetentionRuleSchema,
} from './rule.js';

function toRule(rule: RetentionRule): z.infer<typeof RetentionRuleSchema> {
  return {
    team: rule.team,
    ...(rule.artifact !== undefined ? { artifact: rule.artifact } : {}),
    ...(rule.keepLast !== undefined ? { keep_last: rule.keepLast } : {}),
    keep_patterns: rule.keepPatterns,
    keep_running: rule.keepRunning,
    ...(rule.snapshotDays !== undefined ? { snapshot_days: rule.snapshotDays } : {}),
    updated_at: formatTimestamp(rule.updatedAt),
    updated_by: rule.updatedBy,
  };
}

const TeamParams = z.object({ team: NameSchema });
const ArtifactParams = z.object({ team: NameSchema, artifact: NameSchema });
const secured = [{ bearer: [] }];

/** Retention rules (members of the team), and the dry run. */
export function registerRetentionRoutes(
  app: HttpApp,
  deps: { ctx: ServiceContext; retention: Retention; audit: PierOneAudit; config: PierOneConfig },
): void {
  const { ctx, retention, audit, config } = deps;
  const { readGuard, writeGuard } = apiGuards(ctx, config);
  const actorOf = (request: FastifyRequest) => ({ principal: principalOf(request), requestId: request.id });

  app.get(
    '/teams/:team/retention-rules',
    {
      preHandler: readGuard,
      schema: {
        tags: ['retention'],
        summary: "A team's retention rules: the team's own, then its repositories'",
        security: secured,
        params: TeamParams,
        response: { 200: z.array(RetentionRuleSchema) },
      },
    },
    async (request) => (await retention.rules(request.params.team)).map(toRule),
  );

  app.get(
    '/teams/:team/retention-plan',
    {
      preHandler: readGuard,
      schema: {
        tags: ['retention'],
        summary: "Dry run: the tags the team's retention rules would delete now (changes nothing)",
        security: secured,
        params: TeamParams,
        response: { 200: RetentionPlanSchema },
      },
    },
    async (request) => retention.plan(request.params.team),
  );

  const description =
    'A tag goes when `keep_last` or `snapshot_days` lets it go and no keep clause (`keep_patterns`, ' +
    '`keep_running`, a production-ready mark) protects it. The job deletes through the audited ' +
    'deletion path as `pierone-retention`, with the rule in the reason; the names stay burnt.';

  app.put(
    '/teams/:team/retention-rule',
    {
      preHandler: writeGuard,
      config: audit.route('pierone.retention_rule.set'),
      schema: {
        tags: ['retention'],
        summary: "Sets the team's retention rule (members of the team)",
        description: `${description} A repository's own rule replaces the team's for it.`,
        security: secured,
        params: TeamParams,
        body: RetentionRuleInputSchema,
        response: { 200: RetentionRuleSchema },
      },
    },
    async (request) =>
      toRule(await retention.setRule(actorOf(request), request.params.team, undefined, request.body)),
  );

  app.put(
    '/teams/:team/artifacts/:artifact/retention-rule',
    {
      preHandler: writeGuard,
      config: audit.route('pierone.retention_rule.set'),
      schema: {
        tags: ['retention'],
        summary: "Sets a repository's retention rule, replacing the team's for it (members of the team)",
        description,
        security: secured,
        params: ArtifactParams,
        body: RetentionRuleInputSchema,
        response: { 200: RetentionRuleSchema },
      },
    },
    async (request) =>
      toRule(
        await retention.setRule(actorOf(request), request.params.team, request.params.artifact, request.body),
      ),
  );

  app.delete(
    '/teams/:team/retention-rule',
    {
      preHandler: writeGuard,
      config: audit.route('pierone.retention_rule.delete'),
      schema: {
        tags: ['retention'],
        summary: "Removes the team's retention rule (members of the team)",
        security: secured,
        params: TeamParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await retention.deleteRule(actorOf(request), request.params.team, undefined);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/teams/:team/artifacts/:artifact/retention-rule',
    {
      preHandler: writeGuard,
      config: audit.route('pierone.retention_rule.delete'),
      schema: {
        tags: ['retention'],
        summary: "Removes a repository's retention rule (members of the team)",
        security: secured,
        params: ArtifactParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await retention.deleteRule(actorOf(request), request.params.team, request.params.artifact);
      return reply.status(204).send(null);
    },
  );
}
