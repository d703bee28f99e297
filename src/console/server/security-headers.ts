/**
 * The console runs only its own bundled scripts and talks only to its own origin (the API
 * proxy); the login page is a navigation, which `connect-src` does not govern. Forms post to
 * the console itself and to `formTargets`: the token service, whose AWS sign-in (`/saml/aws`)
 * the "AWS accounts and roles" page posts to.
 */
export function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...formTargets].join(' '),
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The headers of every page and asset, for a console whose forms may post to `formTargets`. */
export function securityHeaders(formTargets: readonly string[] = []): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(formTargets),
    'x-content-type-options': 'nosniff',
    // Not `no-referrer`: under it a browser sends `Origin: null` with the AWS sign-in form's post,
    // and the token service tells the console's post from another page's by its Origin. Other
    // sites still learn no path: at most the console's origin.
    'referrer-policy': 'strict-origin',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
}
