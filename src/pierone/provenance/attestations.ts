import { sign } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { BlobStore } from '../../platform/blob-store/blob-store.js';
import { InputError, NotFoundError } from '../../platform/errors.js';
import type { Actor, PierOneAudit, PushAccess, WriteTarget } from '../access.js';
import { digestOfBytes } from '../digest.js';
import { MEDIA_TYPES } from '../manifest.js';
import { type RepositoryName, repositoryOf } from '../reference.js';
import type { PierOneStore } from '../store.js';
import type { AttestationKeys } from './attestation-keys.js';
import { DSSE_ENVELOPE_MEDIA_TYPE, type DsseEnvelope, preAuthEncoding } from './dsse.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  type ProvenanceStatement,
  ProvenanceStatementSchema,
  SLSA_PROVENANCE_V1,
  digestParts,
  sourceOf,
} from './statement.js';

/** The OCI 1.1 empty config of an artifact manifest: `{}`, as the image spec defines it. */
const EMPTY_CONFIG = Buffer.from('{}');
const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
/** Annotation naming an in-toto predicate type on a layer or manifest (as buildx and cosign write it). */
export const PREDICATE_TYPE_ANNOTATION = 'in-toto.io/predicate-type';

/** An attestation Pier One signed and attached to an image. */
export interface Attestation {
  /** The attestation manifest's digest: a referrer of `subject`. */
  digest: string;
  /** The image manifest's digest the statement is about. */
  subject: string;
  repository: string;
  keyId: string;
  envelope: DsseEnvelope;
  /** The source commit the provenance names, if any. */
  commit: string | undefined;
}

export interface AttestationsDeps {
  store: PierOneStore;
  blobs: BlobStore;
  access: PushAccess;
  audit: PierOneAudit;
  keys: AttestationKeys;
}

/**
 * Signing provenance for CI. The CI sends an in-toto statement with a SLSA provenance
 * predicate; Pier One checks it is about an image of the repository, records who asked (the
 * token's principal, as `internalParameters.invoker`: the CI cannot claim to be someone else),
 * signs it as a DSSE envelope with its attestation key and stores the envelope as an OCI
 * artifact whose `subject` is the image, so that the referrers API lists it. The CI never
 * holds the key; the right to have an image attested is the right to push to its team.
 */
export class Attestations {
  constructor(private readonly deps: AttestationsDeps) {}

  async attest(actor: Actor, repo: RepositoryName, statementInput: unknown): Promise<Attestation> {
    const { store, blobs, access, audit, keys } = this.deps;
    const repository = repositoryOf(repo);
    const parsed = ProvenanceStatementSchema.safeParse(statementInput);
    const claimedSubject = firstSubjectDigest(statementInput);
    const attempted: WriteTarget = {
      event: 'pierone.attestation.create',
      targetId: `${repository}@${claimedSubject ?? 'unknown'}`,
    };
    await access.assertPush(actor, repo.team, attempted);
    if (!parsed.success) {
      throw new InputError(
        `the statement is not an in-toto v1 statement with a ${SLSA_PROVENANCE_V1} predicate: ${z.prettifyError(parsed.error)}`,
        { code: 'STATEMENT_INVALID' },
      );
    }
    const statement = parsed.data;
    if (statement.subject.length !== 1 || claimedSubject === undefined) {
      throw new InputError(
        'the statement must have exactly one subject: the image manifest, by sha256 (or sha512) digest',
        {
          code: 'STATEMENT_INVALID',
        },
      );
    }
    const image = await store.getManifest(repository, claimedSubject);
    if (!image) {
      throw new NotFoundError(`manifest ${claimedSubject} is unknown in ${repository}`, {
        code: 'MANIFEST_UNKNOWN',
      });
    }

    const signed: ProvenanceStatement = {
      ...statement,
      predicate: {
        ...statement.predicate,
        buildDefinition: {
          ...statement.predicate.buildDefinition,
          internalParameters: {
            ...statement.predicate.buildDefinition.internalParameters,
            invoker: { uid: actor.principal.uid, realm: actor.principal.realm },
          },
        },
      },
    };
    const key = await keys.signingKey();
    const payload = Buffer.from(JSON.stringify(signed), 'utf8');
    // DER, as sigstore and cosign encode ECDSA signatures in DSSE.
    const sig = sign('sha256', preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), {
      key: key.privateKey,
      dsaEncoding: 'der',
    });
    const envelope: DsseEnvelope = {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: payload.toString('base64'),
      signatures: [{ keyid: key.kid, sig: sig.toString('base64') }],
    };
    const envelopeBytes = Buffer.from(JSON.stringify(envelope), 'utf8');
    const stored = [
      await blobs.put(Readable.from([envelopeBytes])),
      await blobs.put(Readable.from([EMPTY_CONFIG])),
    ];
    const [envelopeBlob, configBlob] = stored as [(typeof stored)[0], (typeof stored)[0]];
    const manifestJson = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: DSSE_ENVELOPE_MEDIA_TYPE,
      config: { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: configBlob.digest, size: configBlob.size },
      layers: [
        {
          mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
          digest: envelopeBlob.digest,
          size: envelopeBlob.size,
          annotations: { [PREDICATE_TYPE_ANNOTATION]: SLSA_PROVENANCE_V1 },
        },
      ],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.content.length },
      annotations: {
        [PREDICATE_TYPE_ANNOTATION]: SLSA_PROVENANCE_V1,
        'org.opencontainers.image.created': new Date().toISOString(),
      },
    };
    const content = Buffer.from(JSON.stringify(manifestJson), 'utf8');
    const digest = digestOfBytes(content);
    const commit = sourceOf(signed.predicate)?.commit;
    await store.putArtifact(
      {
        repository,
        digest,
        mediaType: MEDIA_TYPES.ociManifest,
        content,
        configDigest: configBlob.digest,
        subject: image.digest,
        artifactType: DSSE_ENVELOPE_MEDIA_TYPE,
        annotations: manifestJson.annotations,
        scmSource: undefined,
        createdBy: actor.principal.uid,
      },
      [envelopeBlob, configBlob],
      // The attestation and its event commit together, or the attestation fails.
      (trx) =>
        audit(trx, {
          event: attempted.event,
          actor: actor.principal,
          targetId: `${repository}@${image.digest}`,
          details: {
            attestation: digest,
            key_id: key.kid,
            predicate_type: SLSA_PROVENANCE_V1,
            builder_id: signed.predicate.runDetails.builder.id,
            ...(commit ? { commit } : {}),
          },
          requestId: actor.requestId,
        }),
    );
    return { digest, subject: image.digest, repository, keyId: key.kid, envelope, commit };
  }
}

/**
 * `sha256:<hex>` (or `sha512:<hex>` for an image pushed by a sha512 digest) of the statement's
 * first subject, read before (and whatever) validation says.
 */
function firstSubjectDigest(statement: unknown): string | undefined {
  const subject = (statement as { subject?: Array<{ digest?: Record<string, unknown> }> } | null)?.subject;
  const digests = Array.isArray(subject) ? subject[0]?.digest : undefined;
  for (const algorithm of ['sha256', 'sha512']) {
    const hex = digests?.[algorithm];
    if (typeof hex === 'string' && digestParts(`${algorithm}:${hex}`)) return `${algorithm}:${hex}`;
  }
  return undefined;
}
