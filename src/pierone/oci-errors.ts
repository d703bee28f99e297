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

/** What a `/v2/<team>/<artifact>/…` path segment is, by its position and the segments before it. */
type SegmentRole = 'name' | 'reference' | 'digest' | 'upload' | 'other';

function roleOf(segments: readonly string[], index: number): SegmentRole {
  if (index < 2) return 'name';
  const kind = segments[2];
  if (kind === 'manifests' && index === 3) return 'reference';
  if (kind === 'blobs' && index === 3) return segments[3] === 'uploads' ? 'other' : 'digest';
  if (kind === 'blobs' && segments[3] === 'uploads' && index === 4) return 'upload';
  return 'other';
}

/** The OCI error for a path segment that cannot be taken as what its position says it is. */
function segmentError(role: SegmentRole, looksLikeDigest: boolean, message: string): OciError {
  switch (role) {
    case 'name':
      return new OciError(400, 'NAME_INVALID', `invalid repository name: ${message}`);
    case 'digest':
      return new OciError(400, 'DIGEST_INVALID', `invalid digest: ${message}`);
    case 'reference':
      // As the route answers a bad reference: a digest-shaped one is a digest, else a tag.
      return looksLikeDigest
        ? new OciError(400, 'DIGEST_INVALID', `invalid digest: ${message}`)
        : new OciError(400, 'TAG_INVALID', `invalid tag: ${message}`);
    case 'upload':
      return new OciError(404, 'BLOB_UPLOAD_UNKNOWN', `unknown upload: ${message}`);
    case 'other':
      return new OciError(404, 'NAME_UNKNOWN', `no registry endpoint for this path: ${message}`);
  }
}

function decodes(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

/**
 * The answer to a `/v2` URL refused before routing (`rawPath` undecoded): malformed
 * percent-encoding (400) or an overlong segment (414), named by the segment it is in.
 */
export function registryUrlError(rawPath: string, status: 400 | 414): OciError {
  const segments = rawPath.replace(/^\/v2\/?/, '').split('/');
  const index =
    status === 414
      ? segments.reduce((longest, s, i) => (s.length > (segments[longest]?.length ?? 0) ? i : longest), 0)
      : Math.max(
          0,
          segments.findIndex((s) => !decodes(s)),
        );
  const segment = segments[index] ?? '';
  const problem =
    status === 414
      ? `a path segment is too long (${segment.length} characters)`
      : 'not valid percent-encoded UTF-8';
  const error = segmentError(roleOf(segments, index), /:|%3a/i.test(segment), problem);
  // An overlong segment keeps its 414 (the spec leaves the status to HTTP), with the code of its role.
  return status === 414 ? new OciError(414, error.code, error.message) : error;
}

/**
 * The OCI error for a path parameter the kernel's edge guard refused (`field` = `path.<name>`,
 * e.g. a NUL character), named by the parameter; undefined for anything else (query, body).
 */
export function pathParamError(
  field: string | undefined,
  params: unknown,
  message: string,
): OciError | undefined {
  const name = field?.startsWith('path.') ? field.slice('path.'.length) : undefined;
  if (name === undefined) return undefined;
  const value =
    typeof params === 'object' && params !== null
      ? new Map<string, unknown>(Object.entries(params)).get(name)
      : undefined;
  const looksLikeDigest = typeof value === 'string' && value.includes(':');
  const role: SegmentRole =
    name === 'team' || name === 'artifact'
      ? 'name'
      : name === 'digest'
        ? 'digest'
        : name === 'reference'
          ? 'reference'
          : name === 'id'
            ? 'upload'
            : 'other';
  return segmentError(role, looksLikeDigest, message);
}
