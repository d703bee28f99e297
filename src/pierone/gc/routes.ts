import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authenticate, principalOf } from '../../platform/auth/http-auth.js';
import { NotAllowedError, NotAuthenticatedError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { ANONYMOUS, type PierOneAudit, type PushAccess, recordRefusal, SCOPES } from '../access.js';
import type { GcResult, GcRunOptions } from './collector.js';
import { GcResultSchema } from './contract.js';

export interface GcRouteDeps {
  ctx: ServiceContext;
  access: PushAccess;
  audit: PierOneAudit;
  collect: (options?: Partial<GcRunOptions>) => Promise<GcResult>;
}

const TARGET = 'blobs';

/**
 * `POST /gc[?dry_run=true]`: one garbage collection run now, for platform admins whose token
 * holds `pierone.admin.delete`. Runs (dry or not) and refusals are audited as `pierone.gc.run`.
 */
export function registerGcRoutes(app: HttpApp, deps: GcRouteDeps): void {
  const { ctx, access, audit, collect } = deps;
  app.post(
    '/gc',
    {
      preHandler: async (request: FastifyRequest) => {
        try {
          request.principal = await authenticate(ctx.verifier, request);
        } catch (error) {
          if (!(error instanceof NotAuthenticatedError)) throw error;
          throw await recordRefusal(
            audit,
            ANONYMOUS,
            request.id,
            { event: 'pierone.gc.run', targetId: TARGET },
            error,
          );
        }
      },
      config: audit.route('pierone.gc.run'),
      schema: {
        tags: ['admin'],
        summary: 'Garbage-collects blobs no manifest refers to (platform admins with pierone.admin.delete)',
        description:
          'Deletes blobs that no manifest refers to and that nobody uploaded, linked or mounted within ' +
          'the grace period (`pierone.gc.graceSeconds`); `dry_run=true` lists what would go and changes nothing. ' +
          'Safe during pushes. The job `pierone.gc` runs the same periodically.',
        security: [{ bearer: [] }],
        querystring: z.object({ dry_run: z.enum(['true', 'false']).optional() }),
        response: { 200: GcResultSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const actor = { principal, requestId: request.id };
      if (!access.mayDelete(actor)) {
        throw await access.refused(
          actor,
          { event: 'pierone.gc.run', targetId: TARGET },
          new NotAllowedError(
            `garbage collection needs a platform admin's token with ${SCOPES.adminDelete}`,
            {
              requiredScopes: [SCOPES.adminDelete],
            },
          ),
        );
      }
      const result = await collect({
        dryRun: request.query.dry_run === 'true',
        actor: principal,
        requestId: request.id,
      });
      return {
        dry_run: result.dryRun,
        scanned: result.scanned,
        deleted: result.deleted,
        bytes_freed: result.bytesFreed,
        links_removed: result.linksRemoved,
        manifests_deleted: result.manifestsDeleted,
        failed: result.failed,
        duration_ms: result.durationMs,
        ...(result.candidates ? { candidates: result.candidates } : {}),
        ...(result.manifestCandidates ? { manifest_candidates: result.manifestCandidates } : {}),
      };
    },
  );
}
