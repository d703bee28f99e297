import { z } from 'zod';
import { requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { AwsSettings } from '../platform/aws/client-config.js';
import { HttpClient, HttpError } from '../platform/cli/http-client.js';
import { InputError, NotAllowedError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { lenientBoolean } from '../platform/http/lenient-schemas.js';
import { LINK_KINDS, type TraceLink } from './chain.js';
import type { TaupagePolicy } from './links/ami.js';
import { DEFAULT_TICKET_PATTERN } from './links/ticket.js';
import { parseTraceInput, walk } from './walk.js';

const LinkSchema: z.ZodType<TraceLink> = z.lazy(() =>
  z.object({
    kind: z.enum(LINK_KINDS),
    status: z.enum(['ok', 'broken', 'unknown', 'warning']),
    label: z.string(),
    facts: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    why: z.string().optional(),
    children: z.array(LinkSchema).optional(),
  }),
);

/** A trace on the wire: what `stups trace -o json` prints. */
export const TraceSchema = z.object({ subject: z.string(), whole: z.boolean(), links: z.array(LinkSchema) });

export const TraceQuerySchema = z.object({
  subject: z.string().trim().min(1, 'is required').max(300),
  verify: lenientBoolean.optional(),
});

export interface TraceRouteDeps {
  verifier: TokenVerifier;
  /** Where the walk reads: the platform's own services. */
  urls: { pierone: string; kio: string; fullstop: string; even: string };
  aws: AwsSettings;
  taupage: TaupagePolicy;
  fetch?: typeof fetch;
}

/**
 * `GET /api/trace?subject=…`: the walk `stups trace` does, run on the server for the console.
 * It reads the services with the caller's own token, so the trace shows exactly what the caller
 * may read, as the CLI would; EC2, CloudFormation and Route53 with the server's AWS settings.
 */
export function registerTraceRoutes(app: HttpApp, deps: TraceRouteDeps): void {
  app.get(
    '/api/trace',
    {
      preHandler: requireAuth(deps.verifier),
      schema: {
        tags: ['trace'],
        security: [{ bearer: [] }],
        summary: 'The traceability chain of an instance, stack, image, digest or application',
        description:
          '`subject` as `stups trace` takes it: `i-…`, `stack-name version`, `[registry/]team/artifact:tag`, ' +
          '`sha256:…` or an application id; `verify` checks provenance signatures. `whole` says whether no link is broken.',
        querystring: TraceQuerySchema,
        response: { 200: TraceSchema },
      },
    },
    async (request) => {
      const { subject, verify } = request.query;
      const input = parseTraceInput(subject);
      if (!input)
        throw new InputError(
          `"${subject}" is no instance id, stack, image reference, image digest or application id`,
          {
            code: 'TRACE_SUBJECT_INVALID',
          },
        );
      const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '');
      const client = (baseUrl: string, service: string) =>
        new HttpClient({
          baseUrl,
          service,
          token: async () => bearer,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        });
      const even = client(deps.urls.even, 'even');
      // The AWS SDK clients load on the first trace, not with fullstop.
      const { httpSources } = await import('./http-sources.js');
      const sources = httpSources({
        pierone: client(deps.urls.pierone, 'Pier One'),
        kio: client(deps.urls.kio, 'Kio'),
        fullstop: client(deps.urls.fullstop, 'fullstop'),
        even: async () => even,
        aws: deps.aws,
        account: undefined,
        roleName: undefined,
      });
      try {
        return await walk(sources, input, subject, {
          verify: verify === true,
          ticketPattern: new RegExp(DEFAULT_TICKET_PATTERN),
          taupage: deps.taupage,
          now: new Date(),
        });
      } catch (error) {
        // A service refusing the caller is the caller's limit, not the server's failure.
        if (error instanceof HttpError && (error.status === 401 || error.status === 403))
          throw new NotAllowedError(`trace: ${error.message}`);
        throw error;
      }
    },
  );
}
