import { z } from 'zod';

/** One line of the role mapping: who gets which IAM role in which accounts (ADR 0010). */
export const RoleMappingEntrySchema = z.strictObject({
  who: z
    .enum(['members', 'admins', 'everyone'])
    .describe(
      '`members`: members of the team owning the account; `admins`: platform administrators (`adminUids`); `everyone`: every employee',
    ),
  role: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')
    .describe('IAM role name in the account'),
  accounts: z
    .enum(['team', 'all'])
    .describe("`team`: the accounts of the person's teams; `all`: every account the team service knows"),
});
export type RoleMappingEntry = z.output<typeof RoleMappingEntrySchema>;

export const DEFAULT_ROLE_MAPPING: RoleMappingEntry[] = [
  { who: 'members', role: 'PowerUser', accounts: 'team' },
  { who: 'everyone', role: 'ReadOnly', accounts: 'team' },
];

/** `token-service.aws`: the token service as identity provider of AWS (ADR 0010). */
export const AwsIdpSettingsSchema = z.strictObject({
  roleMapping: z
    .array(RoleMappingEntrySchema)
    .default(DEFAULT_ROLE_MAPPING)
    .describe(
      'Which IAM roles an employee may assume: the one source of `GET /aws/roles` and of web-identity tokens',
    ),
  webIdentityAudience: z
    .string()
    .min(1)
    .default('sts.amazonaws.com')
    .describe("`aud` of web-identity tokens: the client id registered with the account's IAM OIDC provider"),
  webIdentityLifetimeSeconds: z.coerce
    .number()
    .int()
    .positive()
    .max(3600)
    .default(300)
    .describe('Lifetime of a web-identity token: it only has to reach STS'),
  oidcProviderHost: z
    .string()
    .regex(/^[^/:]+(:\d+)?(\/[^?#]*)?$/, 'must be host and path without scheme, as IAM names OIDC providers')
    .optional()
    .describe(
      "Name of the IAM OIDC provider in every account (provider ARN `…:oidc-provider/<this>`); default: the issuer's host and path",
    ),
  samlProviderName: z
    .string()
    .min(1)
    .default('stups')
    .describe('Name of the IAM SAML provider in every account (used by the SAML slice, not yet built)'),
});
export type AwsIdpSettings = z.output<typeof AwsIdpSettingsSchema>;

/** IAM names an OIDC provider by the issuer URL without its scheme (and without a trailing slash). */
export function oidcProviderHostOf(issuer: string): string {
  const url = new URL(issuer);
  return `${url.host}${url.pathname}`.replace(/\/+$/, '');
}
