import { z } from 'zod';
import { principalOf } from '../platform/auth/http-auth.js';
import { formatTimestamp } from '../platform/db/timestamps.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import type { PierOneAudit } from './access.js';
import type { PierOneConfig } from './config.js';
import { NameSchema } from './contract.js';
import { QuotaInputSchema, TeamUsageSchema } from './quota-contract.js';
import type { PierOneQuotas, TeamUsage } from './quotas.js';
import { apiGuards } from './route-guards.js';

export function toUsage(usage: TeamUsage): z.infer<typeof TeamUsageSchema> {
  return {
    team: usage.team,
    used_bytes: usage.usedBytes,
    ...(usage.quotaBytes !== undefined ? { quota_bytes: usage.quotaBytes } : {}),
    ...(usage.quotaSetBy !== undefined ? { quota_set_by: usage.quotaSetBy } : {}),
    ...(usage.quotaSetAt !== undefined ? { quota_set_at: formatTimestamp(usage.quotaSetAt) } : {}),
    repositories: usage.repositories,
  };
}

const TeamParams = z.object({ team: NameSchema });
const secured = [{ bearer: [] }];

/** Quotas (set by platform admins) and usage per team and repository. */
export function registerQuotaRoutes(
  app: HttpApp,
  deps: { ctx: ServiceContext; quotas: PierOneQuotas; audit: PierOneAudit; config: PierOneConfig },
): void {
  const { ctx, quotas, audit, config } = deps;
  const { readGuard, writeGuard } = apiGuards(ctx, config);

  app.get(
    '/usage',
    {
      preHandler: writeGuard,
      schema: {
        tags: ['quotas'],
        summary: 'Storage used by every team and repository, with the quotas',
        security: secured,
        response: { 200: z.array(TeamUsageSchema) },
      },
    },
    async () => (await quotas.allUsage()).map(toUsage),
  );

  app.get(
    '/teams/:team/usage',
    {
      preHandler: readGuard,
      schema: {
        tags: ['quotas'],
        summary: "A team's storage usage per repository and its quota",
        description:
          'Usage counts every distinct blob linked into one of the team’s repositories once; a blob ' +
          'shared with another team counts for both. Manifests are not counted.',
        security: secured,
        params: TeamParams,
        response: { 200: TeamUsageSchema },
      },
    },
    async (request) => toUsage(await quotas.usage(request.params.team)),
  );

  app.put(
    '/teams/:team/quota',
    {
      preHandler: writeGuard,
      config: audit.route('pierone.quota.set'),
      schema: {
        tags: ['quotas'],
        summary: "Sets a team's storage quota in bytes (platform administrators only)",
        description:
          'Blob uploads and mounts that would take the team over it are refused with OCI `DENIED` (403).',
        security: secured,
        params: TeamParams,
        body: QuotaInputSchema,
        response: { 200: TeamUsageSchema },
      },
    },
    async (request) => {
      const actor = { principal: principalOf(request), requestId: request.id };
      await quotas.setQuota(actor, request.params.team, request.body.bytes);
      return toUsage(await quotas.usage(request.params.team));
    },
  );

  app.delete(
    '/teams/:team/quota',
    {
      preHandler: writeGuard,
      config: audit.route('pierone.quota.set'),
      schema: {
        tags: ['quotas'],
        summary: "Removes a team's quota (platform administrators only)",
        security: secured,
        params: TeamParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const actor = { principal: principalOf(request), requestId: request.id };
      await quotas.setQuota(actor, request.params.team, undefined);
      return reply.status(204).send(null);
    },
  );
}
