import { z } from 'zod';

/** Media type of a DSSE envelope, as an OCI layer and as the referrer's artifact type. */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** A DSSE envelope (https://github.com/secure-systems-lab/dsse/blob/master/envelope.md). */
export const DsseEnvelopeSchema = z.looseObject({
  payloadType: z.string().min(1),
  /** Base64 (standard alphabet) of the signed payload bytes. */
  payload: z.string(),
  signatures: z.array(z.looseObject({ keyid: z.string().optional(), sig: z.string().min(1) })),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelopeSchema>;

/**
 * DSSE's pre-authentication encoding, what is actually signed:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal byte counts.
 * Signing the type with the body stops a payload being re-read as another type.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const header = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([header, payload]);
}
