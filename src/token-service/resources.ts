import type { TokenServiceCore } from './core.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthParams } from './params.js';

/**
 * RFC 8707 resource indicators at the token endpoint: the `aud` the client asks for, or
 * undefined when it names none (then the token is for this installation's own services).
 * Each `resource` must be the platform audience or one of `resourceIndicators`, compared
 * exactly; anything else is `invalid_target`. Which resources a token may name is a setting of
 * the installation, not of the grant: naming one only narrows where the token is accepted.
 */
export function requestedAudience(core: TokenServiceCore, params: OAuthParams): string[] | undefined {
  // `collectParams` joins repeated `resource` parameters with spaces, which no URI contains.
  const requested = params.resource?.split(' ').filter(Boolean);
  if (!requested?.length) return undefined;
  const allowed = new Set([core.audience, ...core.config.resourceIndicators]);
  for (const resource of requested) {
    if (!isAbsoluteUriWithoutFragment(resource)) {
      throw new OAuthError(
        'invalid_target',
        `resource ${JSON.stringify(resource)} must be an absolute URI without a fragment`,
      );
    }
    if (!allowed.has(resource)) {
      throw new OAuthError('invalid_target', `resource ${JSON.stringify(resource)} is not known here`);
    }
  }
  return [...new Set(requested)];
}

function isAbsoluteUriWithoutFragment(value: string): boolean {
  try {
    return new URL(value).hash === '' && !value.includes('#');
  } catch {
    return false;
  }
}
