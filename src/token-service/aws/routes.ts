import type { Kysely } from 'kysely';
import { z } from 'zod';
import { principalOf, requireAuth } from '../../platform/auth/http-auth.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import { InputError, NotAllowedError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { TokenServiceAudit } from '../audit.js';
import type { KeyStore } from '../key-store.js';
import type { TokenServiceTables } from '../tables.js';
import { registerAccessApprovalRoutes } from './access-approvals-routes.js';
import { type AwsRolesDeps, awsRolesOf } from './aws-roles.js';
import { SamlCertificates, type SamlIdp, samlMetadata } from './saml.js';
import { createSamlIssuer } from './saml-issuance.js';
import { type BrowserSignIn, registerSamlSsoRoutes } from './saml-sso-routes.js';
import type { AwsIdpSettings } from './settings.js';
import { mintWebIdentityToken } from './web-identity-token.js';

export const AWS_ROLES_PATH = '/aws/roles';
export const WEB_IDENTITY_TOKEN_PATH = '/aws/web-identity-token';
export const SAML_ASSERTION_PATH = '/aws/saml-assertion';
export const SAML_METADATA_PATH = '/saml/metadata';
export const SAML_SSO_PATH = '/saml/sso';

const RoleArnSchema = z
  .string()
  .regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN');

export const AwsRoleSchema = z.object({
  account_id: z.string(),
  account_name: z.string().nullable().describe("The owning team's id, as the team service names accounts"),
  team: z.string().nullable(),
  role_name: z.string(),
  role_arn: z.string(),
  provider_arn: z.string().describe('ARN of the IAM OIDC provider for this token service in the account'),
  reason_required: z
    .boolean()
    .describe(
      'Whether a SAML assertion or web-identity token for this role needs a reason (`reasonRequiredAccounts`)',
    ),
});
const ReasonSchema = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .optional()
  .describe('Why: required for accounts listed in `token-service.aws.saml.reasonRequiredAccounts`; audited');
export const WebIdentityTokenRequestSchema = z.strictObject({
  role_arn: RoleArnSchema,
  reason: ReasonSchema,
});
export const WebIdentityTokenResponseSchema = z.object({
  web_identity_token: z.string().describe('JWT for STS AssumeRoleWithWebIdentity; short-lived'),
  role_arn: z.string(),
  expires: z.string().describe('ISO 8601'),
});

export const SamlAssertionRequestSchema = z.strictObject({ role_arn: RoleArnSchema, reason: ReasonSchema });
export const SamlAssertionResponseSchema = z.object({
  saml_response: z.string().describe('Base64 of the signed SAML Response, for STS AssumeRoleWithSAML'),
  role_arn: z.string(),
  principal_arn: z.string().describe('ARN of the IAM SAML provider in the account'),
  expires: z.string().describe('ISO 8601: NotOnOrAfter of the assertion'),
});

export { samlProviderArnOf } from './saml-issuance.js';

export interface AwsRoutesDeps {
  verifier: TokenVerifier;
  audit: TokenServiceAudit;
  db: Kysely<TokenServiceTables>;
  keys: Pick<KeyStore, 'signingKey' | 'privateKeyPem' | 'publicJwks'>;
  issuer: string;
  now: () => number;
  settings: AwsIdpSettings;
  roles: AwsRolesDeps;
  /** The browser's sign-in session and password login, for the SSO pages (`/saml/aws`, `/saml/sso`). */
  browser: BrowserSignIn;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * The token service as AWS identity provider (ADR 0010): which roles an employee may assume, and
 * a web-identity token for one of them. Registered on the service's app next to the admin API, so
 * bad input and refusals answer problem+json and refusals are audited by its `auditRefusals` hook.
 */
export function registerAwsRoutes(app: HttpApp, deps: AwsRoutesDeps): void {
  const employees = requireAuth(deps.verifier, { realm: 'employees' });
  const tags = { tags: ['aws'], security: [{ bearer: [] }] };
  const saml = deps.settings.saml;
  const idp: SamlIdp = { entityId: saml.entityId ?? `${deps.issuer}/saml`, baseUrl: deps.issuer };
  const certificates = new SamlCertificates(deps.db, deps.keys, new URL(deps.issuer).host, deps.now);
  const approvals = registerAccessApprovalRoutes(app, deps);
  // Every door to a SAML response (Mai's API, the browser's SSO) goes through the approval check.
  const issuer = createSamlIssuer({ ...deps, idp, certificates, approvals });

  app.get(
    AWS_ROLES_PATH,
    {
      preHandler: employees,
      schema: {
        ...tags,
        summary: 'The AWS roles the calling employee may assume',
        response: { 200: z.array(AwsRoleSchema) },
      },
    },
    async (request) =>
      (await awsRolesOf(principalOf(request).uid, deps.roles)).map((role) => ({
        ...role,
        reason_required: issuer.reasonRequired(role),
      })),
  );

  app.post(
    WEB_IDENTITY_TOKEN_PATH,
    {
      preHandler: employees,
      config: deps.audit.route('token-service.aws.web_identity_token'),
      schema: {
        ...tags,
        summary: 'A web-identity token (OIDC JWT) for STS AssumeRoleWithWebIdentity, for one of your roles',
        body: WebIdentityTokenRequestSchema,
        response: { 200: WebIdentityTokenResponseSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { role_arn: roleArn, reason } = request.body;
      const role = (await awsRolesOf(principal.uid, deps.roles)).find((r) => r.role_arn === roleArn);
      if (!role) throw new NotAllowedError(`${roleArn} is not one of your AWS roles`);
      // The same rule as for SAML assertions: a listed account is not entered without a why.
      if (issuer.reasonRequired(role) && !reason) {
        throw new InputError(`account ${role.account_id} requires a reason for access: pass "reason"`, {
          code: 'reason_required',
        });
      }
      const approval = await approvals.require(principal.uid, role);
      const teams = await deps.roles.accounts.teamsOfMember(principal.uid);
      const minted = await mintWebIdentityToken(
        deps.keys,
        {
          issuer: deps.issuer,
          audience: deps.settings.webIdentityAudience,
          lifetimeSeconds: deps.settings.webIdentityLifetimeSeconds,
          now: deps.now,
        },
        { uid: principal.uid, teams: teams.map((t) => t.id) },
      );
      // Written before the token leaves: no token without its audit event. Never the token itself.
      await deps.db.transaction().execute((trx) =>
        deps.audit(trx, {
          event: 'token-service.aws.web_identity_token',
          actor: principal,
          targetId: roleArn,
          details: {
            account: role.account_id,
            role: role.role_name,
            jti: minted.jti,
            ...(reason ? { reason } : {}),
            ...approval,
          },
          requestId: request.id,
        }),
      );
      reply.headers(NO_STORE);
      return { web_identity_token: minted.token, role_arn: roleArn, expires: minted.expires.toISOString() };
    },
  );

  app.get(
    SAML_METADATA_PATH,
    {
      schema: {
        tags: ['aws'],
        summary: 'SAML 2.0 IdP metadata: what an IAM SAML provider is created from',
      },
    },
    async (_request, reply) => {
      const published = await certificates.published();
      reply
        .type('application/samlmetadata+xml')
        .header('cache-control', 'public, max-age=300')
        .send(
          samlMetadata(
            idp,
            published.map((c) => c.pem),
            SAML_SSO_PATH,
          ),
        );
    },
  );

  app.post(
    SAML_ASSERTION_PATH,
    {
      preHandler: employees,
      config: deps.audit.route('token-service.aws.saml_assertion'),
      schema: {
        ...tags,
        summary: 'A signed SAML response for STS AssumeRoleWithSAML, for one of your roles (no browser)',
        body: SamlAssertionRequestSchema,
        response: { 200: SamlAssertionResponseSchema },
      },
    },
    async (request, reply) => {
      const { role_arn: roleArn, reason } = request.body;
      const issued = await issuer.issue({
        principal: principalOf(request),
        roleArn,
        reason,
        channel: 'api',
        requestId: request.id,
      });
      reply.headers(NO_STORE);
      return {
        saml_response: Buffer.from(issued.xml).toString('base64'),
        role_arn: roleArn,
        principal_arn: issued.principalArn,
        expires: issued.expires.toISOString(),
      };
    },
  );

  registerSamlSsoRoutes(app, { ...deps, idp, assertions: issuer });
}
