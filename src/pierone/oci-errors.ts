import { BlobNotFoundError } from '../platform/blob-store/blob-store.js';
import { UploadOffsetError } from '../platform/blob-store/upload-sessions.js';
import { NotAllowedError, NotAuthenticatedError, StupsError, statusOf } from '../platform/errors.js';

/** The error codes of the OCI distribution spec. */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  // Docker's registry adds these two; clients know them.
  | 'TAG_INVALID'
  | 'UNKNOWN';

const OCI_CODES = new Set<string>([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'TAG_INVALID',
]);

/** A registry error with the status and OCI code it answers with. */
export class OciError extends Error {
  constructor(
    readonly status: number,
    readonly code: OciErrorCode,
    message: string,
    readonly detail?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OciError';
  }
}

export interface OciErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

/**
 * The one mapping from anything thrown in `/v2/` to the OCI error shape. Domain errors of the
 * kernel keep their status; their code is used when it is an OCI code.
 */
export function toOciError(error: unknown): {
  status: number;
  body: OciErrorBody;
  headers: Record<string, string>;
} {
  const answer = (status: number, code: string, message: string, detail?: unknown, headers = {}) => ({
    status,
    body: { errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] },
    headers,
  });
  if (error instanceof OciError)
    return answer(error.status, error.code, error.message, error.detail, error.headers);
  if (error instanceof UploadOffsetError) {
    return answer(416, 'BLOB_UPLOAD_INVALID', error.message, {
      expectedOffset: error.expectedOffset,
      givenOffset: error.givenOffset,
    });
  }
  if (error instanceof BlobNotFoundError) return answer(404, 'BLOB_UNKNOWN', error.message);
  if (error instanceof NotAuthenticatedError) return answer(401, 'UNAUTHORIZED', error.message);
  if (error instanceof NotAllowedError) return answer(403, 'DENIED', error.message);
  if (error instanceof StupsError) {
    const status = statusOf(error);
    if (status < 500) {
      const fallback = status === 404 ? 'NAME_UNKNOWN' : status === 405 ? 'UNSUPPORTED' : 'UNKNOWN';
      return answer(status, OCI_CODES.has(error.code) ? error.code : fallback, error.message, error.details);
    }
  }
  const fastify = error as FastifyLikeError;
  if (error instanceof Error && typeof fastify.statusCode === 'number' && fastify.statusCode < 500) {
    if (fastify.statusCode === 413) return answer(413, 'SIZE_INVALID', error.message);
    return answer(fastify.statusCode, 'UNKNOWN', error.message);
  }
  return answer(500, 'UNKNOWN', 'The registry failed to handle this request. The failure was logged.');
}
