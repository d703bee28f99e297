import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { preAuthEncoding, type DsseEnvelope, DsseEnvelopeSchema } from './dsse.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  type Invoker,
  InvokerSchema,
  type ProvenanceStatement,
  ProvenanceStatementSchema,
  digestParts,
  sourceOf,
} from './statement.js';

/** Why an attestation did not verify: a stable code, and a message for people. */
export type AttestationErrorCode =
  | 'ENVELOPE_INVALID'
  | 'PAYLOAD_TYPE_UNEXPECTED'
  | 'UNSIGNED'
  | 'KEY_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'STATEMENT_INVALID'
  | 'SUBJECT_MISMATCH'
  | 'NO_SOURCE_COMMIT';

export class AttestationVerificationError extends Error {
  override readonly name = 'AttestationVerificationError';
  constructor(
    readonly code: AttestationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A JWKS as Pier One publishes it (`/.well-known/attestation-jwks.json`). */
export interface Jwks {
  keys: ReadonlyArray<JsonWebKey & { kid?: string; alg?: string }>;
}

/** What a verified attestation says. */
export interface VerifiedAttestation {
  /** The key whose signature verified. */
  keyId: string;
  statement: ProvenanceStatement;
  /** The source commit (`gitCommit` of the resolved source dependency). */
  commit: string;
  /** The source repository's URI, when the provenance names it. */
  sourceUri: string | undefined;
  builderId: string;
  /** Who asked Pier One to sign (the CI's service user), when recorded. */
  invoker: Invoker | undefined;
  startedOn: string | undefined;
  finishedOn: string | undefined;
}

/**
 * Verifies a provenance attestation offline: the DSSE signature over the pre-authentication
 * encoding with the key its `keyid` names in `jwks` (ECDSA P-256, DER, or Ed25519), the payload
 * as an in-toto v1 statement with a SLSA provenance v1 predicate, that the statement is about
 * `subjectDigest` (the image manifest), and that it names the source commit. Returns what the
 * provenance says; throws an `AttestationVerificationError` naming the first check that failed.
 */
export function verifyAttestation(
  envelopeInput: unknown,
  jwks: Jwks,
  expected: { subjectDigest: string },
): VerifiedAttestation {
  const envelope = parseEnvelope(envelopeInput);
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new AttestationVerificationError(
      'PAYLOAD_TYPE_UNEXPECTED',
      `the envelope carries ${envelope.payloadType}, not an in-toto statement (${IN_TOTO_PAYLOAD_TYPE})`,
    );
  }
  if (envelope.signatures.length === 0) {
    throw new AttestationVerificationError('UNSIGNED', 'the envelope has no signature');
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const signed = preAuthEncoding(envelope.payloadType, payload);
  let keyId: string | undefined;
  let anyKnown = false;
  for (const signature of envelope.signatures) {
    const jwk = jwks.keys.find((k) => k.kid !== undefined && k.kid === signature.keyid);
    if (!jwk) continue;
    anyKnown = true;
    if (checkSignature(jwk, signed, Buffer.from(signature.sig, 'base64'))) {
      keyId = jwk.kid;
      break;
    }
  }
  if (keyId === undefined) {
    throw anyKnown
      ? new AttestationVerificationError('SIGNATURE_INVALID', 'no signature of the envelope verifies')
      : new AttestationVerificationError(
          'KEY_UNKNOWN',
          `the envelope is signed by ${envelope.signatures.map((s) => s.keyid ?? '(no key id)').join(', ')}, none of them in the key set`,
        );
  }

  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new AttestationVerificationError('STATEMENT_INVALID', 'the signed payload is not JSON');
  }
  const parsed = ProvenanceStatementSchema.safeParse(json);
  if (!parsed.success) {
    throw new AttestationVerificationError(
      'STATEMENT_INVALID',
      `the signed payload is not an in-toto v1 statement with a SLSA provenance v1 predicate: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim(),
    );
  }
  const statement = parsed.data;
  const wanted = digestParts(expected.subjectDigest);
  if (wanted === undefined || !statement.subject.some((s) => s.digest[wanted.algorithm] === wanted.hex)) {
    const about = statement.subject.flatMap((s) => Object.entries(s.digest).map(([a, hex]) => `${a}:${hex}`));
    throw new AttestationVerificationError(
      'SUBJECT_MISMATCH',
      `the statement is about ${about.join(', ') || 'nothing'}, not ${expected.subjectDigest}`,
    );
  }
  const source = sourceOf(statement.predicate);
  if (!source) {
    throw new AttestationVerificationError(
      'NO_SOURCE_COMMIT',
      'the provenance names no source commit (a resolved dependency with digest.gitCommit)',
    );
  }
  const invoker = InvokerSchema.safeParse(statement.predicate.buildDefinition.internalParameters?.invoker);
  return {
    keyId,
    statement,
    commit: source.commit,
    sourceUri: source.uri,
    builderId: statement.predicate.runDetails.builder.id,
    invoker: invoker.success ? invoker.data : undefined,
    startedOn: statement.predicate.runDetails.metadata?.startedOn,
    finishedOn: statement.predicate.runDetails.metadata?.finishedOn,
  };
}

/** How a provenance commit compares with the image's `scm-source.json`. */
export type ScmSourceMatch =
  | { matches: true; commit: string }
  | {
      matches: false;
      reason: 'no-scm-source' | 'revision-differs';
      commit: string;
      revision: string | undefined;
    };

/**
 * Whether the commit the provenance was built from is the revision the image's scm-source.json
 * names. Revisions may be abbreviated in scm-source.json: a prefix of at least 7 hex digits counts.
 */
export function matchScmSource(
  verified: Pick<VerifiedAttestation, 'commit'>,
  scmSource: { revision?: unknown } | null | undefined,
): ScmSourceMatch {
  const revision =
    typeof scmSource?.revision === 'string' ? scmSource.revision.trim().toLowerCase() : undefined;
  const commit = verified.commit.toLowerCase();
  if (!revision) return { matches: false, reason: 'no-scm-source', commit, revision };
  const same =
    revision === commit ||
    (revision.length >= 7 && /^[0-9a-f]+$/.test(revision) && commit.startsWith(revision));
  return same ? { matches: true, commit } : { matches: false, reason: 'revision-differs', commit, revision };
}

function parseEnvelope(input: unknown): DsseEnvelope {
  let value = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString());
    } catch {
      throw new AttestationVerificationError('ENVELOPE_INVALID', 'the envelope is not JSON');
    }
  }
  const parsed = DsseEnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    throw new AttestationVerificationError('ENVELOPE_INVALID', 'the envelope is not a DSSE envelope');
  }
  return parsed.data;
}

/** Verifies one signature; a key that cannot be read or used counts as not verifying. */
function checkSignature(jwk: JsonWebKey, data: Buffer, signature: Buffer): boolean {
  try {
    // Only the key material: node reads a JWK's own members, not JWKS metadata (kid, alg, use).
    const { kty, crv, x, y, n, e } = jwk;
    const key = createPublicKey({ key: { kty, crv, x, y, n, e } as JsonWebKey, format: 'jwk' });
    if (key.asymmetricKeyType === 'ec') {
      if (jwk.crv !== 'P-256') return false;
      return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
    }
    if (key.asymmetricKeyType === 'ed25519') return verify(null, data, key, signature);
    return false;
  } catch {
    return false;
  }
}
