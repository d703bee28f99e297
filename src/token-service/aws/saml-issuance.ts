import type { Kysely } from 'kysely';
import type { Principal } from '../../platform/auth/principal.js';
import { InputError, NotAllowedError } from '../../platform/errors.js';
import type { TokenServiceAudit } from '../audit.js';
import type { KeyStore } from '../key-store.js';
import type { TokenServiceTables } from '../tables.js';
import { AuthnRequestError } from './authn-request.js';
import { AnsweredAuthnRequests } from './authn-request-store.js';
import { type AwsRole, type AwsRolesDeps, awsRolesOf } from './aws-roles.js';
import { type SamlCertificates, type SamlIdp, signedSamlResponse, type SignedSamlResponse } from './saml.js';
import type { AccessApprovals } from './access-approvals.js';
import type { AwsIdpSettings } from './settings.js';

/** Why a replayed AuthnRequest is refused, for the person (who can simply start again). */
export const ALREADY_ANSWERED =
  'this AuthnRequest has already been answered: start the sign-in at the service again';

export const samlProviderArnOf = (accountId: string, name: string) =>
  `arn:aws:iam::${accountId}:saml-provider/${name}`;

/** How the assertion was asked for: Mai's API call, or a browser (IdP- or SP-initiated SSO). */
export type SamlIssuanceChannel = 'api' | 'idp-initiated' | 'sp-initiated';

export interface SamlIssuanceRequest {
  principal: Pick<Principal, 'uid' | 'realm'>;
  roleArn: string;
  reason?: string | undefined;
  channel: SamlIssuanceChannel;
  /** SP-initiated: the AuthnRequest answered, its SP and where the response goes. Default: AWS. */
  serviceProvider?:
    | {
        entityId: string;
        acsUrl: string;
        requestId: string;
        /** Until when the AuthnRequest could be replayed (its IssueInstant + max age + skew). */
        requestExpires: Date;
      }
    | undefined;
  /** When the person signed in (the browser session's start): the AuthnInstant. */
  authnInstant?: Date | undefined;
  requestId: string;
}

export interface SamlIssued extends SignedSamlResponse {
  role: AwsRole;
  principalArn: string;
  destination: string;
}

export interface SamlIssuerDeps {
  audit: TokenServiceAudit;
  db: Kysely<TokenServiceTables>;
  keys: Pick<KeyStore, 'signingKey' | 'privateKeyPem'>;
  certificates: Pick<SamlCertificates, 'certificateOf'>;
  idp: SamlIdp;
  settings: AwsIdpSettings;
  roles: AwsRolesDeps;
  /** The second-approver rule: a listed account's role needs an approved access request. */
  approvals: Pick<AccessApprovals, 'require'>;
  now: () => number;
}

/**
 * The one way a SAML response for AWS is made, whichever door it is asked through (Mai's API, the
 * browser's IdP- or SP-initiated SSO): the role must be one of the person's (aws-roles.ts), a
 * listed account needs a reason (and, where configured, an approved access request), and the audit event is written before the response leaves.
 * Refusals throw the platform's semantic errors; the caller audits them as refused.
 */
export function createSamlIssuer(deps: SamlIssuerDeps) {
  const saml = deps.settings.saml;
  const answeredRequests = new AnsweredAuthnRequests(deps.db as unknown as Kysely<never>);

  async function roleOf(uid: string, roleArn: string): Promise<AwsRole> {
    const role = (await awsRolesOf(uid, deps.roles)).find((r) => r.role_arn === roleArn);
    if (!role) throw new NotAllowedError(`${roleArn} is not one of your AWS roles`);
    return role;
  }

  return {
    /** Whether a role's account needs a reason (`reasonRequiredAccounts`, by id or name). */
    reasonRequired: (role: Pick<AwsRole, 'account_id' | 'account_name'>) =>
      reasonRequired(role, saml.reasonRequiredAccounts),

    async issue(request: SamlIssuanceRequest): Promise<SamlIssued> {
      const { principal, roleArn, reason, serviceProvider } = request;
      const role = await roleOf(principal.uid, roleArn);
      if (reasonRequired(role, saml.reasonRequiredAccounts) && !reason)
        throw new InputError(`account ${role.account_id} requires a reason for access: pass "reason"`, {
          code: 'reason_required',
        });
      const approval = await deps.approvals.require(principal.uid, role);
      const principalArn = samlProviderArnOf(role.account_id, deps.settings.samlProviderName);
      const destination = serviceProvider?.acsUrl ?? saml.destination;
      const { kid } = await deps.keys.signingKey('RS256');
      const issued = await signedSamlResponse(
        deps.idp,
        {
          kid,
          privateKeyPem: await deps.keys.privateKeyPem(kid),
          certificatePem: await deps.certificates.certificateOf(kid),
        },
        {
          uid: principal.uid,
          roles: [{ roleArn, providerArn: principalArn }],
          destination,
          audience: serviceProvider?.entityId ?? saml.audience,
          sessionDurationSeconds: saml.sessionDurationSeconds,
          lifetimeSeconds: saml.assertionLifetimeSeconds,
          inResponseTo: serviceProvider?.requestId,
          authnInstant: request.authnInstant,
          now: deps.now,
        },
      );
      // Written before the assertion leaves: none without its audit event. Never the assertion itself.
      // An SP's AuthnRequest is answered once (in the same transaction: a replay writes nothing).
      await deps.db.transaction().execute(async (trx) => {
        if (
          serviceProvider &&
          !(await answeredRequests.markAnswered(trx as unknown as Kysely<never>, {
            serviceProvider: serviceProvider.entityId,
            requestId: serviceProvider.requestId,
            uid: principal.uid,
            expiresAt: serviceProvider.requestExpires,
            now: new Date(deps.now()),
          }))
        ) {
          throw new AuthnRequestError(ALREADY_ANSWERED);
        }
        await deps.audit(trx, {
          event: 'token-service.aws.saml_assertion',
          actor: principal,
          targetId: roleArn,
          details: {
            account: role.account_id,
            role: role.role_name,
            assertion_id: issued.assertionId,
            channel: request.channel,
            ...(serviceProvider
              ? { service_provider: serviceProvider.entityId, in_response_to: serviceProvider.requestId }
              : {}),
            ...(reason ? { reason } : {}),
            ...approval,
          },
          requestId: request.requestId,
        });
      });
      return { ...issued, role, principalArn, destination };
    },
  };
}

export type SamlIssuer = ReturnType<typeof createSamlIssuer>;

/** Accounts listed by id or by name (the owning team) need a reason; it is audited, nothing more. */
function reasonRequired(
  role: Pick<AwsRole, 'account_id' | 'account_name'>,
  listed: readonly string[],
): boolean {
  return (
    listed.includes(role.account_id) || (role.account_name !== null && listed.includes(role.account_name))
  );
}
