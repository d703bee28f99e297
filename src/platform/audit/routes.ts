import { z } from 'zod';
import { type AdminPolicy, isAdmin, principalOf, requireAuth } from '../auth/http-auth.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { NotAllowedError } from '../errors.js';
import type { HttpApp } from '../http/create-http-app.js';
import { bigintCursor } from '../http/cursor-schemas.js';
import type { AuditLog } from './audit-log.js';

const AuditEventSchema = z.object({
  id: z.string(),
  occurred_at: z.string(),
  service: z.string(),
  action: z.string(),
  actor: z.string(),
  actor_realm: z.string().nullable(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  outcome: z.string(),
  details: z.unknown(),
  request_id: z.string().nullable(),
});

const AuditQuerySchema = z.strictObject({
  service: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  actor: z.string().max(200).optional(),
  target_type: z.string().max(100).optional(),
  target_id: z.string().max(500).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: bigintCursor('an event id').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `GET /audit-events`: the audit log, newest first, for platform administrators only. */
export function registerAuditRoutes(
  app: HttpApp,
  deps: { auditLog: AuditLog; verifier: TokenVerifier; adminPolicy: AdminPolicy },
): void {
  app.get(
    '/audit-events',
    {
      preHandler: requireAuth(deps.verifier),
      schema: {
        summary: 'Query the audit log (administrators)',
        tags: ['audit'],
        security: [{ bearer: [] }],
        querystring: AuditQuerySchema,
        response: { 200: z.array(AuditEventSchema) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (!isAdmin(principal, deps.adminPolicy)) {
        throw new NotAllowedError('only platform administrators may read the audit log');
      }
      const q = request.query;
      return deps.auditLog.query({
        service: q.service,
        action: q.action,
        actor: q.actor,
        targetType: q.target_type,
        targetId: q.target_id,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        before: q.before,
        limit: q.limit,
      });
    },
  );
}
