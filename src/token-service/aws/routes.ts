import type { Kysely } from 'kysely';
import { z } from 'zod';
import { principalOf, requireAuth } from '../../platform/auth/http-auth.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import { NotAllowedError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { TokenServiceAudit } from '../audit.js';
import type { KeyStore } from '../key-store.js';
import type { TokenServiceTables } from '../tables.js';
import { type AwsRolesDeps, awsRolesOf } from './aws-roles.js';
import type { AwsIdpSettings } from './settings.js';
import { mintWebIdentityToken } from './web-identity-token.js';

export const AWS_ROLES_PATH = '/aws/roles';
export const WEB_IDENTITY_TOKEN_PATH = '/aws/web-identity-token';

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
});
export const WebIdentityTokenRequestSchema = z.strictObject({ role_arn: RoleArnSchema });
export const WebIdentityTokenResponseSchema = z.object({
  web_identity_token: z.string().describe('JWT for STS AssumeRoleWithWebIdentity; short-lived'),
  role_arn: z.string(),
  expires: z.string().describe('ISO 8601'),
});

export interface AwsRoutesDeps {
  verifier: TokenVerifier;
  audit: TokenServiceAudit;
  db: Kysely<TokenServiceTables>;
  keys: Pick<KeyStore, 'signingKey'>;
  issuer: string;
  now: () => number;
  settings: AwsIdpSettings;
  roles: AwsRolesDeps;
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
    async (request) => awsRolesOf(principalOf(request).uid, deps.roles),
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
      const roleArn = request.body.role_arn;
      const role = (await awsRolesOf(principal.uid, deps.roles)).find((r) => r.role_arn === roleArn);
      if (!role) throw new NotAllowedError(`${roleArn} is not one of your AWS roles`);
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
          details: { account: role.account_id, role: role.role_name, jti: minted.jti },
          requestId: request.id,
        }),
      );
      reply.headers(NO_STORE);
      return { web_identity_token: minted.token, role_arn: roleArn, expires: minted.expires.toISOString() };
    },
  );
}
