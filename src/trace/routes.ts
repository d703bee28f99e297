import { z } from 'zod';
import type { AccountAccess } from '../fullstop/aws/assume-role.js';
import { requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { AwsSettings } from '../platform/aws/client-config.js';
import { HttpClient, HttpError } from '../platform/cli/http-client.js';
import { CliError } from '../platform/cli/cli-error.js';
import { InputError, NotAllowedError, UpstreamUnavailableError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { lenientBoolean } from '../platform/http/lenient-schemas.js';
import { LINK_KINDS, type TraceLink } from './chain.js';
import type { TaupagePolicy } from './links/ami.js';
import { DEFAULT_TICKET_PATTERN } from './links/ticket.js';
import type { TraceSources } from './sources.js';
import { parseTraceInput, type TraceInput, walk } from './walk.js';

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
  urls: { pierone: string; kio: string; fullstop: string; even: string; teams: string };
  aws: AwsSettings;
  /** fullstop's reader of the team accounts: the role it assumes in each (`fullstop.aws.assumeRoleName`). */
  access: AccountAccess;
  /** The platform's accounts (the team service's), where an instance or stack not in the own account is looked for. */
  accounts: { listAccounts(): Promise<Array<{ id: string }>> };
  taupage: TaupagePolicy;
  fetch?: typeof fetch;
}

/** Accounts asked at the same time when looking for an instance's account. */
const LOOKUP_CONCURRENCY = 8;

/**
 * `GET /api/trace?subject=…`: the walk `stups trace` does, run on the server for the console.
 * It reads the services with the caller's own token, so the trace shows exactly what the caller
 * may read, as the CLI would; EC2, CloudFormation and Route53 with the server's AWS settings, in
 * the account an instance or stack runs in through fullstop's read role (see `sourcesFor`).
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
      const teams = client(deps.urls.teams, 'the team service');
      const services = {
        teams: async () => teams,
        pierone: client(deps.urls.pierone, 'Pier One'),
        kio: client(deps.urls.kio, 'Kio'),
        fullstop: client(deps.urls.fullstop, 'fullstop'),
        even: async () => even,
      };
      // The AWS SDK clients load on the first trace, not with fullstop.
      const { httpSources } = await import('./http-sources.js');
      const inAccount = (account: string | undefined) =>
        httpSources({ ...services, aws: deps.aws, account, roleName: undefined, access: deps.access });
      try {
        const sources = await sourcesFor(input, inAccount, deps.accounts);
        return await walk(sources, input, subject, {
          verify: verify === true,
          ticketPattern: new RegExp(DEFAULT_TICKET_PATTERN),
          taupage: deps.taupage,
          now: new Date(),
        });
      } catch (error) {
        throw asRouteError(error);
      }
    },
  );
}

/**
 * What a failed walk answers. A service refusing the caller is the caller's limit, not the
 * server's failure (403). EC2, CloudFormation or a service that could not be read ("cannot read
 * EC2: …", exit 2 in the CLI; a service down, overloaded or unreachable) is a 502 naming which and
 * why, instead of a bare server error. Any other answer of a service (a 400 to a request the walk
 * built) is the walk's own fault and stays a server error.
 */
export function asRouteError(error: unknown): unknown {
  if (error instanceof HttpError) {
    if (error.status === 401 || error.status === 403) return new NotAllowedError(`trace: ${error.message}`);
    if (error.status < 500 && error.status !== 429) return error;
  } else if (!(error instanceof CliError)) return error;
  return new UpstreamUnavailableError(`trace: ${error.message}`, { code: 'TRACE_SOURCE_UNAVAILABLE' });
}

/**
 * Where an instance or a stack is read: the platform's own account when it runs there, else the
 * first of the platform's accounts (the team service's) whose EC2 knows it, read through
 * fullstop's role. An account whose role cannot be assumed is passed over; found nowhere, the
 * walk reads the own account and names the instance unknown. Images and applications are read
 * in the own account (their deployments there).
 */
async function sourcesFor(
  input: TraceInput,
  inAccount: (account: string | undefined) => TraceSources,
  accounts: TraceRouteDeps['accounts'],
): Promise<TraceSources> {
  const own = inAccount(undefined);
  if (input.kind !== 'instance' && input.kind !== 'stack') return own;
  // An account that cannot be read (no credentials in the own one, no role in a team's, EC2
  // refusing it) does not have it; found nowhere, the walk reads the own account again (its
  // lookup is remembered, see http-sources) and the route names why it could not.
  const runsIn = async (sources: TraceSources) => {
    try {
      return input.kind === 'instance'
        ? (await sources.instance(input.instanceId)) !== undefined
        : (await sources.stackInstances(input.name, input.version)).length > 0;
    } catch {
      return false;
    }
  };
  if (await runsIn(own)) return own;
  const ids = [...new Set((await accounts.listAccounts()).map((a) => a.id))];
  for (let i = 0; i < ids.length; i += LOOKUP_CONCURRENCY) {
    const found = await Promise.all(
      ids.slice(i, i + LOOKUP_CONCURRENCY).map(async (id) => {
        const sources = inAccount(id);
        return (await runsIn(sources)) ? sources : undefined;
      }),
    );
    const hit = found.find((s) => s !== undefined);
    if (hit) return hit;
  }
  return own;
}
