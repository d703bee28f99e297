import { NotAuthenticatedError } from '../errors.js';

/**
 * Extracts the access token from an `Authorization` header. Besides `Bearer`, STUPS
 * registry clients send `Basic base64("oauth2:<token>")` and `Token <token>`.
 * Returns undefined when there is no header at all.
 */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (value === '') {
    throw new NotAuthenticatedError('the Authorization header has no credentials', {
      bearerError: 'invalid_request',
    });
  }
  if (scheme === 'bearer' || scheme === 'token') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0 && decoded.slice(0, colon) === 'oauth2' && decoded.length > colon + 1) {
      return decoded.slice(colon + 1);
    }
    throw new NotAuthenticatedError('Basic authentication is accepted only as "oauth2:<access token>"', {
      bearerError: 'invalid_request',
    });
  }
  throw new NotAuthenticatedError(`unsupported authorization scheme "${scheme}"`, {
    bearerError: 'invalid_request',
  });
}
