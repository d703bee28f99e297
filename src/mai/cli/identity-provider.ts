import { z } from 'zod';
import { type AwsSettings } from '../../platform/aws/client-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpClient, HttpError } from '../../platform/cli/http-client.js';
import { assumeRole, providerKind, type TemporaryAwsCredentials } from '../aws/assume-role.js';
import type { MaiProfile } from '../mai-config.js';

/**
 * The STUPS token service as Mai sees it (ADR 0010): found through its discovery document, which
 * names `aws_roles_endpoint` (and, once the SAML slice is deployed, `aws_saml_assertion_endpoint`).
 * Mai reads only the members it needs, leniently, so a newer token service keeps working.
 */
const DiscoverySchema = z.looseObject({
  issuer: z.string().optional(),
  aws_roles_endpoint: z.string().optional(),
  aws_web_identity_token_endpoint: z.string().optional(),
  aws_saml_assertion_endpoint: z.string().optional(),
});

/** One entry of `GET /aws/roles`. */
export const AwsRoleSchema = z.looseObject({
  account_id: z.string(),
  account_name: z.string().nullable().optional(),
  team: z.string().nullable().optional(),
  role_name: z.string(),
  role_arn: z.string(),
  provider_arn: z.string(),
});
export type AwsRole = z.output<typeof AwsRoleSchema>;

const WebIdentityAnswerSchema = z.looseObject({
  web_identity_token: z.string().min(1),
  role_arn: z.string(),
  expires: z.string().optional(),
});

const SamlAnswerSchema = z.looseObject({
  saml_response: z.string().min(1),
  role_arn: z.string(),
  principal_arn: z.string().optional(),
  expires: z.string().optional(),
});

export interface PlatformIdp {
  url: string;
  rolesEndpoint: string;
  webIdentityEndpoint: string;
  samlAssertionEndpoint: string | undefined;
  /** Access requests for roles that need a second approver (next to the roles endpoint). */
  accessRequestsEndpoint: string;
}

/** Where a login goes, and with which bearer token (Zign's session). */
export interface IdpSession {
  idp: PlatformIdp;
  token: string;
  fetch?: typeof fetch | undefined;
}

function client(url: string, token: string | undefined, fetchImpl?: typeof fetch): HttpClient {
  return new HttpClient({
    baseUrl: url,
    service: 'the token service',
    fetch: fetchImpl,
    token: async () => token,
  });
}

/**
 * Reads the discovery document of a profile's `saml_identity_provider_url`. Without
 * `aws_roles_endpoint` (no discovery document, an HTML page, a URL with a query such as
 * Shibboleth's `…/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices`) it is not a STUPS
 * token service but, as in STUPS, a company's own SAML IdP with a login form: `undefined`.
 * An IdP that cannot be reached is one line, whichever kind it is.
 */
export async function discoverIdp(url: string, fetchImpl?: typeof fetch): Promise<PlatformIdp | undefined> {
  if (new URL(url).search) return undefined;
  let answer: unknown;
  try {
    answer = await new HttpClient({ baseUrl: url, service: 'the identity provider', fetch: fetchImpl }).json(
      'GET',
      '/.well-known/openid-configuration',
    );
  } catch (error) {
    if (error instanceof HttpError) return undefined;
    throw error;
  }
  const document = DiscoverySchema.safeParse(answer);
  if (!document.success || !document.data.aws_roles_endpoint) return undefined;
  const base = document.data.aws_roles_endpoint.replace(/\/aws\/roles\/?$/, '');
  return {
    url,
    rolesEndpoint: document.data.aws_roles_endpoint,
    // Not (yet) advertised by the token service: the path next to the roles endpoint (ADR 0010).
    webIdentityEndpoint: document.data.aws_web_identity_token_endpoint ?? `${base}/aws/web-identity-token`,
    samlAssertionEndpoint: document.data.aws_saml_assertion_endpoint,
    accessRequestsEndpoint: `${base}/aws/access-requests`,
  };
}

/** Splits an absolute endpoint into the client's base (origin) and the path. */
function at(endpoint: string): { origin: string; path: string } {
  const u = new URL(endpoint);
  return { origin: u.origin, path: `${u.pathname}${u.search}` };
}

/** `GET /aws/roles`: the roles the logged-in employee may assume, as the token service maps them. */
export async function listRoles(session: IdpSession): Promise<AwsRole[]> {
  const { origin, path } = at(session.idp.rolesEndpoint);
  return client(origin, session.token, session.fetch).parsed(
    z.array(AwsRoleSchema),
    'a list of AWS roles',
    'GET',
    path,
  );
}

/** A role the token service refused (not one of the caller's roles) in one line, with what to do. */
async function postForRole<S extends z.ZodType>(
  session: IdpSession,
  endpoint: string,
  schema: S,
  what: string,
  roleArn: string,
  reason: string | undefined,
): Promise<z.output<S>> {
  const { origin, path } = at(endpoint);
  try {
    return await client(origin, session.token, session.fetch).parsed(schema, what, 'POST', path, {
      role_arn: roleArn,
      ...(reason ? { reason } : {}),
    });
  } catch (error) {
    if (error instanceof HttpError && error.status === 400 && codeOf(error.body) === 'reason_required') {
      throw new ReasonRequiredError(roleArn, error.message.replace(/^.*?answered 400: /, ''));
    }
    if (error instanceof HttpError && error.status === 403 && codeOf(error.body) === 'approval_required') {
      throw new ApprovalRequiredError(roleArn, error.message.replace(/^.*?answered 403: /, ''));
    }
    if (error instanceof HttpError && error.status === 403) {
      throw new CliError(
        `the token service refused ${roleArn}: ${error.message.replace(/^.*?answered 403: /, '')} (see "mai create-all" for your roles)`,
      );
    }
    throw error;
  }
}

const codeOf = (body: unknown) =>
  body && typeof body === 'object' && 'code' in body ? body.code : undefined;

/** The role's account is in the token service's `reasonRequiredAccounts` and no reason was given. */
export class ReasonRequiredError extends CliError {
  constructor(
    readonly roleArn: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** The token service wants a second person's approval before it issues this role (issue 19). */
export class ApprovalRequiredError extends CliError {
  constructor(
    readonly roleArn: string,
    detail: string,
  ) {
    super(detail);
  }
}

export const AccessRequestSchema = z.looseObject({
  id: z.string(),
  requester: z.string(),
  account_id: z.string(),
  team: z.string().nullable(),
  role_name: z.string(),
  role_arn: z.string(),
  reason: z.string(),
  state: z.string(),
  expires: z.string(),
  decided_by: z.string().nullable().optional(),
});
export type AccessRequest = z.output<typeof AccessRequestSchema>;

/** `POST /aws/access-requests`: a new pending request, or the pending one for the same role. */
export async function requestAccess(
  session: IdpSession,
  input: { account: string; role: string; reason: string },
): Promise<AccessRequest> {
  const { origin, path } = at(session.idp.accessRequestsEndpoint);
  return client(origin, session.token, session.fetch).parsed(
    AccessRequestSchema,
    'an access request',
    'POST',
    path,
    input,
  );
}

export async function listAccessRequests(session: IdpSession, state?: string): Promise<AccessRequest[]> {
  const { origin, path } = at(session.idp.accessRequestsEndpoint);
  const query = state ? `?state=${encodeURIComponent(state)}` : '';
  return client(origin, session.token, session.fetch).parsed(
    z.array(AccessRequestSchema),
    'a list of access requests',
    'GET',
    `${path}${query}`,
  );
}

export async function decideAccessRequest(
  session: IdpSession,
  id: string,
  verdict: 'approval' | 'rejection',
  comment?: string,
): Promise<AccessRequest> {
  const { origin, path } = at(session.idp.accessRequestsEndpoint);
  return client(origin, session.token, session.fetch).parsed(
    AccessRequestSchema,
    'an access request',
    'POST',
    `${path}/${encodeURIComponent(id)}/${verdict}`,
    comment ? { comment } : {},
  );
}

/** The uid in a JWT's `sub`, for STS's RoleSessionName (so CloudTrail names the person). */
function sessionNameOf(jwt: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    const sub = typeof payload.sub === 'string' ? payload.sub.replace(/[^\w+=,.@-]/g, '-') : '';
    return sub.length >= 2 ? sub.slice(0, 64) : 'mai';
  } catch {
    return 'mai';
  }
}

/**
 * How one profile turns a login into AWS credentials. Two implementations: the web-identity
 * path (an `oidc-provider` ARN in the profile) and the SAML path (a `saml-provider` ARN).
 */
export interface RoleExchange {
  kind: 'web-identity' | 'saml';
  credentials(
    profile: MaiProfile,
    session: IdpSession,
    aws: AwsSettings,
    options?: { reason?: string | undefined },
  ): Promise<TemporaryAwsCredentials>;
}

export const webIdentityExchange: RoleExchange = {
  kind: 'web-identity',
  async credentials(profile, session, aws, options) {
    const roleArn = profile.saml_role[1];
    const answer = await postForRole(
      session,
      session.idp.webIdentityEndpoint,
      WebIdentityAnswerSchema,
      'a web-identity token',
      roleArn,
      options?.reason,
    );
    return assumeRole(aws, {
      kind: 'web-identity',
      token: answer.web_identity_token,
      roleArn,
      sessionName: sessionNameOf(answer.web_identity_token),
    });
  },
};

export const samlExchange: RoleExchange = {
  kind: 'saml',
  async credentials(profile, session, aws, options) {
    const [providerArn, roleArn] = profile.saml_role;
    const endpoint = session.idp.samlAssertionEndpoint;
    if (!endpoint) {
      throw new CliError(
        `profile "${profile.name}" names the SAML provider ${providerArn}, but the token service at ` +
          `${session.idp.url} offers no SAML assertions (no aws_saml_assertion_endpoint in its discovery ` +
          'document); use a profile for its OIDC provider ("mai create")',
      );
    }
    const answer = await postForRole(
      session,
      endpoint,
      SamlAnswerSchema,
      'a SAML assertion',
      roleArn,
      options?.reason,
    );
    return assumeRole(aws, {
      kind: 'saml',
      samlResponse: answer.saml_response,
      roleArn,
      providerArn: answer.principal_arn ?? providerArn,
    });
  },
};

/** The exchange a profile's provider ARN asks for (ADR 0010: no new field in mai.yaml). */
export function exchangeFor(profile: MaiProfile): RoleExchange {
  return providerKind(profile.saml_role[0]) === 'saml' ? samlExchange : webIdentityExchange;
}
