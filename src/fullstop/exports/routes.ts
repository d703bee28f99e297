import { z } from 'zod';
import { requireAuth } from '../../platform/auth/http-auth.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { ViolationQuerySchema } from '../contract.js';
import type { FullstopStore } from '../store.js';
import { filterOf, toViolation } from '../violations.js';
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, exportStream } from './formats.js';

const ExportQuerySchema = ViolationQuerySchema.extend({ format: z.enum(EXPORT_FORMATS) });

/** `GET /api/violations/export`: every violation the filters select, streamed as CSV, SARIF or OCSF. */
export function registerExportRoutes(
  app: HttpApp,
  deps: { store: FullstopStore; verifier: TokenVerifier },
): void {
  app.get(
    '/api/violations/export',
    {
      preHandler: requireAuth(deps.verifier),
      schema: {
        tags: ['violations'],
        security: [{ bearer: [] }],
        summary: 'Export violations as CSV, SARIF 2.1.0 or OCSF Detection Findings',
        description:
          'The filters of `GET /api/violations` (`checked` defaults to false: open violations); paging ' +
          'parameters are ignored: every matching violation is exported, in id order, streamed.',
        querystring: ExportQuerySchema,
        produces: [...new Set(Object.values(EXPORT_CONTENT_TYPES).map((t) => t.split(';')[0]!))],
      },
    },
    async (request, reply) => {
      const { format } = request.query;
      const rows = deps.store.stream(filterOf(request.query));
      const violations = (async function* () {
        for await (const row of rows) yield toViolation(row);
      })();
      const extension = format === 'csv' ? 'csv' : format === 'sarif' ? 'sarif' : 'ocsf.json';
      return reply
        .type(EXPORT_CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="fullstop-violations.${extension}"`)
        .send(exportStream(format, violations));
    },
  );
}
