import { inflateRawSync } from 'node:zlib';
import { SAML_NS, xmlbuilder } from './saml.js';

/** A service provider the IdP answers SP-initiated requests of (`token-service.aws.saml.serviceProviders`). */
export interface KnownServiceProvider {
  entityId: string;
  /** Where its responses may go; the first is used when the request names none. */
  acsUrls: readonly string[];
}

/** A checked AuthnRequest: who asked, and where the response goes. */
export interface AuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string;
  issueInstant: Date;
}

/** A request the IdP will not answer; the message says why, for the person and the SP's admin. */
export class AuthnRequestError extends Error {}

const BINDING_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
/** An AuthnRequest is a few hundred bytes; this bounds what a hostile deflate stream may expand to. */
const MAX_XML_BYTES = 64 * 1024;
/** SAML IDs are xsd:ID (an NCName); anything else would be echoed into InResponseTo. */
const NCNAME = /^[A-Za-z_][\w.-]{0,255}$/;

/** HTTP-Redirect binding (SAML Bindings §3.4.4.1): base64 of the raw-deflated XML. */
export function decodeRedirectBinding(samlRequest: string): string {
  return inflated(base64(samlRequest));
}

/**
 * HTTP-POST binding (SAML Bindings §3.5.4): base64 of the XML. Some SPs deflate it anyway, as for
 * the Redirect binding (node-saml's `getAuthorizeFormAsync` does): what is not XML is inflated.
 */
export function decodePostBinding(samlRequest: string): string {
  const bytes = base64(samlRequest);
  if (bytes.length > MAX_XML_BYTES) throw new AuthnRequestError('SAMLRequest is too large');
  const xml = bytes.toString('utf8');
  return xml.trimStart().startsWith('<') ? xml : inflated(bytes);
}

function inflated(compressed: Buffer): string {
  try {
    return inflateRawSync(compressed, { maxOutputLength: MAX_XML_BYTES }).toString('utf8');
  } catch {
    throw new AuthnRequestError('SAMLRequest is neither SAML XML nor a deflated SAML message');
  }
}

function base64(value: string): Buffer {
  const compact = value.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact))
    throw new AuthnRequestError('SAMLRequest is not base64');
  return Buffer.from(compact, 'base64');
}

/**
 * Reads and checks an AuthnRequest (SAML Core §3.4.1): its issuer must be a known SP, the ACS URL
 * one of that SP's, the Destination (when given) our SSO endpoint, the binding HTTP-POST and the
 * request fresh. Requests are not signed (the metadata says `WantAuthnRequestsSigned="false"`):
 * the response only ever goes to an ACS URL the settings list, so a forged request gains nothing.
 */
export function checkAuthnRequest(
  xml: string,
  options: {
    serviceProviders: readonly KnownServiceProvider[];
    ssoUrl: string;
    maxAgeMs: number;
    skewMs: number;
    now: number;
  },
): AuthnRequest {
  // SAML messages never carry a DTD (SAML Core §1.3): refusing one rules out entity expansion.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new AuthnRequestError('SAMLRequest must not contain a DTD');
  let root: Element;
  try {
    root = xmlbuilder().create(xml).root().node as unknown as Element;
  } catch {
    throw new AuthnRequestError('SAMLRequest is not XML');
  }
  if (root.localName !== 'AuthnRequest' || root.namespaceURI !== SAML_NS.protocol)
    throw new AuthnRequestError('SAMLRequest is not a SAML 2.0 AuthnRequest');
  const id = root.getAttribute('ID') ?? '';
  if (!NCNAME.test(id)) throw new AuthnRequestError('the AuthnRequest has no valid ID');
  if (root.getAttribute('Version') !== '2.0') throw new AuthnRequestError('the AuthnRequest is not SAML 2.0');
  for (const flag of ['IsPassive', 'ForceAuthn'])
    if (['true', '1'].includes(root.getAttribute(flag) ?? ''))
      throw new AuthnRequestError(`${flag}="true" is not supported by this identity provider`);
  const binding = root.getAttribute('ProtocolBinding');
  if (binding && binding !== BINDING_POST)
    throw new AuthnRequestError(`responses are sent with the HTTP-POST binding only, not ${binding}`);
  const destination = root.getAttribute('Destination');
  if (destination && destination !== options.ssoUrl)
    throw new AuthnRequestError(`the AuthnRequest is meant for ${destination}, not for ${options.ssoUrl}`);

  const issueInstant = new Date(root.getAttribute('IssueInstant') ?? '');
  if (Number.isNaN(issueInstant.getTime()))
    throw new AuthnRequestError('the AuthnRequest has no IssueInstant');
  if (issueInstant.getTime() > options.now + options.skewMs)
    throw new AuthnRequestError('the AuthnRequest was issued in the future: check the clocks');
  if (options.now - issueInstant.getTime() > options.maxAgeMs + options.skewMs)
    throw new AuthnRequestError('the AuthnRequest has expired: start the sign-in at the service again');

  const issuerElement = Array.from(root.childNodes as ArrayLike<ChildNode>).find(
    (n): n is Element =>
      n.nodeType === 1 &&
      (n as Element).localName === 'Issuer' &&
      (n as Element).namespaceURI === SAML_NS.assertion,
  );
  const issuer = issuerElement?.textContent.trim() ?? '';
  if (!issuer) throw new AuthnRequestError('the AuthnRequest names no Issuer');
  const sp = options.serviceProviders.find((s) => s.entityId === issuer);
  if (!sp) throw new AuthnRequestError(`unknown service provider "${issuer}"`);
  const requestedAcs = root.getAttribute('AssertionConsumerServiceURL');
  if (requestedAcs && !sp.acsUrls.includes(requestedAcs))
    throw new AuthnRequestError(`${requestedAcs} is not an assertion consumer URL of "${issuer}"`);
  const acsUrl = requestedAcs || sp.acsUrls[0];
  if (!acsUrl) throw new AuthnRequestError(`"${issuer}" has no assertion consumer URL configured`);
  return { id, issuer, acsUrl, issueInstant };
}
