import { createPublicKey, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type * as SelfsignedPackage from 'selfsigned';
import type * as XmlCryptoPackage from 'xml-crypto';
import type * as Xmlbuilder2Package from 'xmlbuilder2';
import { lazyPackage } from '../../platform/lazy-package.js';
import type { KeyStore } from '../key-store.js';
import type { TokenServiceTables } from '../tables.js';

// Loaded when AWS sign-in is first used, not with the token service (see lazyPackage).
const selfsigned = lazyPackage<typeof SelfsignedPackage>('selfsigned');
const xmlCrypto = lazyPackage<typeof XmlCryptoPackage>('xml-crypto');
export const xmlbuilder = lazyPackage<typeof Xmlbuilder2Package>('xmlbuilder2');

export const SAML_NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;
export const AWS_SAML_ATTRIBUTES = {
  role: 'https://aws.amazon.com/SAML/Attributes/Role',
  roleSessionName: 'https://aws.amazon.com/SAML/Attributes/RoleSessionName',
  sessionDuration: 'https://aws.amazon.com/SAML/Attributes/SessionDuration',
} as const;
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const NAMEID_PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const BINDING_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const CERTIFICATE_YEARS = 10;

/** Certificate PEM → the base64 body KeyInfo and metadata carry. */
const certificateBody = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

/**
 * SAML signs with the token service's RS256 keys (key-store.ts: encrypted at rest, rotated with
 * pre-publication, kept until their tokens expired), so SAML needs no key handling of its own. SAML
 * metadata carries keys as X.509 certificates: each RS256 key gets one self-signed certificate,
 * made on first use and stored, so every replica and every restart publishes the same bytes (an
 * IAM SAML provider compares what it was given).
 */
export class SamlCertificates {
  readonly #cache = new Map<string, string>();

  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly keys: Pick<KeyStore, 'privateKeyPem' | 'publicJwks'>,
    private readonly commonName: string,
    private readonly now: () => number,
  ) {}

  /** The certificate (PEM) of a kept key. */
  async certificateOf(kid: string): Promise<string> {
    const cached = this.#cache.get(kid);
    if (cached) return cached;
    const stored = await this.#stored(kid);
    if (stored) return this.#remember(kid, stored);
    const privateKey = await this.keys.privateKeyPem(kid);
    const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const notBefore = new Date(this.now() - 60_000);
    const notAfter = new Date(notBefore);
    notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERTIFICATE_YEARS);
    const made = await selfsigned().generate([{ name: 'commonName', value: this.commonName }], {
      keyPair: { privateKey, publicKey },
      keyType: 'rsa',
      algorithm: 'sha256',
      notBeforeDate: notBefore,
      notAfterDate: notAfter,
    });
    // Another replica may have made one at the same moment: the first stored wins everywhere.
    await this.db
      .insertInto('token_saml_certificates')
      .values({ kid, certificate_pem: made.cert, created_at: new Date(this.now()) })
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
    return this.#remember(kid, (await this.#stored(kid)) ?? made.cert);
  }

  /** Certificates of every RS256 key the JWKS publishes: the signing one, its pre-published successor, retired ones still kept. */
  async published(): Promise<{ kid: string; pem: string }[]> {
    const { keys } = await this.keys.publicJwks();
    const kids = keys.filter((k) => k.alg === 'RS256' && k.kid).map((k) => k.kid!);
    return Promise.all(kids.map(async (kid) => ({ kid, pem: await this.certificateOf(kid) })));
  }

  async #stored(kid: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('token_saml_certificates')
      .select('certificate_pem')
      .where('kid', '=', kid)
      .executeTakeFirst();
    return row?.certificate_pem;
  }

  #remember(kid: string, pem: string): string {
    this.#cache.set(kid, pem);
    return pem;
  }
}

export interface SamlIdp {
  entityId: string;
  /** Base URL of the token service: the SSO endpoints live under it. */
  baseUrl: string;
}

/** IDPSSODescriptor metadata: what an IAM SAML provider (or any SP) is created from. */
export function samlMetadata(idp: SamlIdp, certificates: readonly string[], ssoPath: string): string {
  const doc = xmlbuilder().create({ version: '1.0', encoding: 'UTF-8' });
  const entity = doc.ele(SAML_NS.metadata, 'md:EntityDescriptor', { entityID: idp.entityId });
  const descriptor = entity.ele(SAML_NS.metadata, 'md:IDPSSODescriptor', {
    WantAuthnRequestsSigned: 'false',
    protocolSupportEnumeration: SAML_NS.protocol,
  });
  for (const pem of certificates) {
    descriptor
      .ele(SAML_NS.metadata, 'md:KeyDescriptor', { use: 'signing' })
      .ele(SAML_NS.dsig, 'ds:KeyInfo')
      .ele(SAML_NS.dsig, 'ds:X509Data')
      .ele(SAML_NS.dsig, 'ds:X509Certificate')
      .txt(certificateBody(pem));
  }
  for (const format of [NAMEID_PERSISTENT, NAMEID_UNSPECIFIED])
    descriptor.ele(SAML_NS.metadata, 'md:NameIDFormat').txt(format);
  for (const binding of [BINDING_REDIRECT, BINDING_POST])
    descriptor.ele(SAML_NS.metadata, 'md:SingleSignOnService', {
      Binding: binding,
      Location: `${idp.baseUrl}${ssoPath}`,
    });
  return doc.end({ prettyPrint: true });
}

export interface SamlResponseInput {
  uid: string;
  /** `<role arn>,<provider arn>` pairs: the Role attribute's values. */
  roles: readonly { roleArn: string; providerArn: string }[];
  destination: string;
  audience: string;
  sessionDurationSeconds: number;
  lifetimeSeconds: number;
  /** The AuthnRequest's ID for SP-initiated SSO. */
  inResponseTo?: string | undefined;
  /** When the person authenticated (AuthnInstant); default now. */
  authnInstant?: Date | undefined;
  now: () => number;
}

export interface SignedSamlResponse {
  xml: string;
  assertionId: string;
  expires: Date;
}

const samlId = () => `_${randomBytes(20).toString('hex')}`;
const instant = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A SAML Response with one Assertion for AWS, both signed (RSA-SHA256, exclusive c14n, enveloped):
 * AWS needs the assertion signed; other SPs (and the tests' node-saml) may want the response too.
 * xmlbuilder2 escapes every text and attribute value.
 */
export async function signedSamlResponse(
  idp: SamlIdp,
  signer: { kid: string; privateKeyPem: string; certificatePem: string },
  input: SamlResponseInput,
): Promise<SignedSamlResponse> {
  // Whole seconds: the XML carries no milliseconds, and `expires` must say what the XML says.
  const now = new Date(Math.floor(input.now() / 1000) * 1000);
  const expires = new Date(now.getTime() + input.lifetimeSeconds * 1000);
  const responseId = samlId();
  const assertionId = samlId();
  const inResponseTo = input.inResponseTo ? { InResponseTo: input.inResponseTo } : {};
  const doc = xmlbuilder().create({ version: '1.0', encoding: 'UTF-8' });
  const response = doc.ele(SAML_NS.protocol, 'samlp:Response', {
    ID: responseId,
    Version: '2.0',
    IssueInstant: instant(now),
    Destination: input.destination,
    ...inResponseTo,
  });
  response.ele(SAML_NS.assertion, 'saml:Issuer').txt(idp.entityId);
  response
    .ele(SAML_NS.protocol, 'samlp:Status')
    .ele(SAML_NS.protocol, 'samlp:StatusCode', { Value: 'urn:oasis:names:tc:SAML:2.0:status:Success' });
  const assertion = response.ele(SAML_NS.assertion, 'saml:Assertion', {
    ID: assertionId,
    Version: '2.0',
    IssueInstant: instant(now),
  });
  assertion.ele(SAML_NS.assertion, 'saml:Issuer').txt(idp.entityId);
  const subject = assertion.ele(SAML_NS.assertion, 'saml:Subject');
  subject.ele(SAML_NS.assertion, 'saml:NameID', { Format: NAMEID_PERSISTENT }).txt(input.uid);
  subject
    .ele(SAML_NS.assertion, 'saml:SubjectConfirmation', { Method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer' })
    .ele(SAML_NS.assertion, 'saml:SubjectConfirmationData', {
      ...inResponseTo,
      NotOnOrAfter: instant(expires),
      Recipient: input.destination,
    });
  assertion
    .ele(SAML_NS.assertion, 'saml:Conditions', {
      NotBefore: instant(new Date(now.getTime() - 60_000)),
      NotOnOrAfter: instant(expires),
    })
    .ele(SAML_NS.assertion, 'saml:AudienceRestriction')
    .ele(SAML_NS.assertion, 'saml:Audience')
    .txt(input.audience);
  assertion
    .ele(SAML_NS.assertion, 'saml:AuthnStatement', {
      AuthnInstant: instant(input.authnInstant ?? now),
      SessionIndex: assertionId,
    })
    .ele(SAML_NS.assertion, 'saml:AuthnContext')
    .ele(SAML_NS.assertion, 'saml:AuthnContextClassRef')
    .txt('urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport');
  const attributes = assertion.ele(SAML_NS.assertion, 'saml:AttributeStatement');
  const attribute = (name: string, values: readonly string[]) => {
    const a = attributes.ele(SAML_NS.assertion, 'saml:Attribute', { Name: name });
    for (const v of values) a.ele(SAML_NS.assertion, 'saml:AttributeValue').txt(v);
  };
  if (input.roles.length > 0)
    attribute(
      AWS_SAML_ATTRIBUTES.role,
      input.roles.map((r) => `${r.roleArn},${r.providerArn}`),
    );
  attribute(AWS_SAML_ATTRIBUTES.roleSessionName, [input.uid]);
  attribute(AWS_SAML_ATTRIBUTES.sessionDuration, [String(input.sessionDurationSeconds)]);

  const unsigned = doc.end({ headless: false });
  const signedAssertion = sign(unsigned, signer, 'Assertion');
  const xml = sign(signedAssertion, signer, 'Response');
  return { xml, assertionId, expires };
}

/** Enveloped signature of the element `localName`, placed right after its Issuer (the schema's order). */
function sign(
  xml: string,
  signer: { privateKeyPem: string; certificatePem: string },
  localName: 'Assertion' | 'Response',
): string {
  const element = `//*[local-name(.)='${localName}']`;
  const sig = new (xmlCrypto().SignedXml)({
    privateKey: signer.privateKeyPem,
    publicCert: signer.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({ xpath: element, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256 });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${element}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}
