import { DOMParser } from '@xmldom/xmldom';
import { CliError } from '../../platform/cli/cli-error.js';

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
export const ROLE_ATTRIBUTE = 'https://aws.amazon.com/SAML/Attributes/Role';

/** One value of AWS's Role attribute: the role and the IAM SAML provider that may assume it. */
export interface SamlRole {
  roleArn: string;
  providerArn: string;
}

const IAM_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|saml-provider)\/\S+$/;

/**
 * The Role attribute's pairs of a (decoded) SAML Response. AWS accepts both orders,
 * `<role>,<provider>` and `<provider>,<role>`, and so did STUPS Mai; values that are not such a
 * pair are skipped, as AWS skips them. Mai does not check the signature: STS does, against the
 * IAM SAML provider's metadata.
 */
export function rolesOfSamlResponse(xml: string): SamlRole[] {
  const document = parseXml(xml);
  const status = document.getElementsByTagNameNS(PROTOCOL, 'StatusCode')[0];
  const code = status?.getAttribute('Value');
  if (code && code !== SUCCESS) {
    throw new CliError(
      `the identity provider answered with SAML status ${code.replace(/^.*:/, '')}, not a login`,
    );
  }
  if (document.getElementsByTagNameNS(ASSERTION, 'EncryptedAssertion').length > 0) {
    throw new CliError(
      'the identity provider encrypted its SAML assertion; AWS needs it unencrypted (ask your IdP admins)',
    );
  }
  const roles: SamlRole[] = [];
  for (const attribute of elements(document.getElementsByTagNameNS(ASSERTION, 'Attribute'))) {
    if (attribute.getAttribute('Name') !== ROLE_ATTRIBUTE) continue;
    for (const value of elements(attribute.getElementsByTagNameNS(ASSERTION, 'AttributeValue'))) {
      const parts: string[] = value.textContent.split(',').map((p: string) => p.trim());
      if (parts.length !== 2 || !parts.every((p) => IAM_ARN.test(p))) continue;
      const roleArn = parts.find((p) => /:role\//.test(p));
      const providerArn = parts.find((p) => /:saml-provider\//.test(p));
      if (roleArn && providerArn) roles.push({ roleArn, providerArn });
    }
  }
  return roles;
}

function elements(list: { length: number; item(i: number): Element | null }): Element[] {
  const out: Element[] = [];
  for (let i = 0; i < list.length; i++) {
    const e = list.item(i);
    if (e) out.push(e);
  }
  return out;
}

function parseXml(xml: string) {
  const problems: string[] = [];
  const document = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (message: string) => void problems.push(message),
      fatalError: (message: string) => void problems.push(message),
    },
  }).parseFromString(xml, 'text/xml');
  // Null for text that is not XML at all, whatever the DOM typings say.
  const root = document.documentElement as Element | null;
  if (problems.length > 0 || !root || root.namespaceURI !== PROTOCOL || root.localName !== 'Response') {
    throw new CliError('the identity provider sent a SAMLResponse that is not a SAML 2.0 Response');
  }
  return document;
}
