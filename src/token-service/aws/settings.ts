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

/** `token-service.aws.secondApprover`: roles issued only after another person approved (issue 19). */
export const SecondApproverSettingsSchema = z.strictObject({
  accounts: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Accounts whose roles need a second approver: account ids, names (owning team ids) or glob patterns on either (`*-production`)',
    ),
  roles: z
    .array(z.string().min(1))
    .default([])
    .describe('Only these role names need the approval in those accounts (empty: every role)'),
  approvalValiditySeconds: z.coerce
    .number()
    .int()
    .min(60)
    .max(43200)
    .default(3600)
    .describe('How long an approval lets the requester obtain assertions and web-identity tokens'),
  requestLifetimeSeconds: z.coerce
    .number()
    .int()
    .min(60)
    .max(604800)
    .default(86400)
    .describe('How long a request waits for a decision before it lapses'),
});
export type SecondApproverSettings = z.output<typeof SecondApproverSettingsSchema>;

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
    .describe('Name of the IAM SAML provider in every account (provider ARN `…:saml-provider/<this>`)'),
  saml: z
    .strictObject({
      entityId: z
        .string()
        .min(1)
        .optional()
        .describe("The IdP's entity id (Issuer of responses and metadata); default `<issuer>/saml`"),
      destination: z
        .url()
        .default('https://signin.aws.amazon.com/saml')
        .describe(
          'Where responses are posted (Destination and Recipient): the AWS sign-in endpoint, or an emulator',
        ),
      audience: z
        .string()
        .min(1)
        .default('urn:amazon:webservices')
        .describe('AudienceRestriction of assertions: the SP entity id of AWS'),
      sessionDurationSeconds: z.coerce
        .number()
        .int()
        .min(900)
        .max(43200)
        .default(3600)
        .describe('SessionDuration attribute: how long the AWS session of an assertion lasts'),
      assertionLifetimeSeconds: z.coerce
        .number()
        .int()
        .positive()
        .max(3600)
        .default(300)
        .describe('NotOnOrAfter of an assertion: it only has to reach AWS'),
      reasonRequiredAccounts: z
        .array(z.string().min(1))
        .default([])
        .describe(
          'Account ids or names (owning team ids) whose roles need a `reason` for a SAML assertion or web-identity token: it goes into the audit event',
        ),
      serviceProviders: z
        .array(
          z.strictObject({
            entityId: z
              .string()
              .min(1)
              .describe('Issuer of its AuthnRequests; the Audience of our responses'),
            acsUrls: z
              .array(z.url())
              .min(1)
              .describe('Assertion consumer URLs responses may be posted to; the first is the default'),
          }),
        )
        .optional()
        .describe(
          'Service providers whose SP-initiated requests (`/saml/sso`) are answered; default: AWS, `audience` with `destination`',
        ),
      authnRequestMaxAgeSeconds: z.coerce
        .number()
        .int()
        .positive()
        .max(3600)
        .default(600)
        .describe(
          'How old an AuthnRequest may be (IssueInstant) when answered: the sign-in happens in between',
        ),
    })
    .prefault({})
    .describe('The token service as SAML 2.0 identity provider of AWS (docs/aws-access.md)'),
  secondApprover: SecondApproverSettingsSchema.prefault({}).describe(
    'Accounts whose roles are issued only after a second person approved an access request (docs/mai.md)',
  ),
});
export type AwsIdpSettings = z.output<typeof AwsIdpSettingsSchema>;

/** IAM names an OIDC provider by the issuer URL without its scheme (and without a trailing slash). */
export function oidcProviderHostOf(issuer: string): string {
  const url = new URL(issuer);
  return `${url.host}${url.pathname}`.replace(/\/+$/, '');
}
