import { z } from 'zod';

const oneOrMany = z.union([z.string(), z.array(z.string())]);
const Statement = z.looseObject({
  Effect: z.string().optional(),
  Principal: z
    .union([z.literal('*'), z.looseObject({ AWS: oneOrMany.optional(), Federated: oneOrMany.optional() })])
    .optional(),
});
const PolicyDocument = z.looseObject({ Statement: z.union([Statement, z.array(Statement)]) });

const ACCOUNT_ID = /^\d{12}$/;
const ARN_ACCOUNT = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/;

/**
 * The AWS accounts a role's trust policy lets assume it: from the `AWS` principals of its Allow
 * statements (`123456789012`, `arn:aws:iam::123456789012:root`, a role or user ARN), `*` for
 * everyone; a federated principal that is an IAM identity provider (`arn:aws:iam::<account>:
 * saml-provider/…`, `…:oidc-provider/…`) names the provider's account. Service principals and
 * public identity providers (`cognito-identity.amazonaws.com`) name no account. CloudTrail and IAM give the
 * document as a (possibly URL-encoded) JSON string; one that does not parse grants nothing here.
 */
export function trustedPrincipals(document: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(document.trimStart().startsWith('%7B') ? decodeURIComponent(document) : document);
  } catch {
    return [];
  }
  const policy = PolicyDocument.safeParse(json);
  if (!policy.success) return [];
  const statements = Array.isArray(policy.data.Statement) ? policy.data.Statement : [policy.data.Statement];
  const accounts = new Set<string>();
  for (const s of statements) {
    if (s.Effect !== 'Allow' || s.Principal === undefined) continue;
    const aws = s.Principal === '*' ? '*' : s.Principal.AWS;
    const federated = s.Principal === '*' ? undefined : s.Principal.Federated;
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    for (const p of [...list(aws), ...list(federated)]) {
      if (p === '*') accounts.add('*');
      else if (ACCOUNT_ID.test(p)) accounts.add(p);
      else {
        const m = ARN_ACCOUNT.exec(p);
        if (m?.[1]) accounts.add(m[1]);
      }
    }
  }
  return [...accounts];
}
