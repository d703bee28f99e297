/*
 * The two pages people see: the login of the authorization code flow and the device
 * verification. Server-rendered, no scripts; every dynamic value goes through `escapeHtml`.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * The login page's headers. Browsers apply `form-action` to the redirect that follows the
 * form POST too, so the client's (already validated) redirect URI origin must be allowed.
 */
export function loginPageHeaders(redirectUri: string): Record<string, string> {
  return {
    ...PAGE_HEADERS,
    'content-security-policy': PAGE_HEADERS['content-security-policy'].replace(
      "form-action 'self'",
      `form-action 'self' ${new URL(redirectUri).origin}`,
    ),
  };
}

/** Headers of every page: no caching, no framing (clickjacking), no scripts at all. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:26em;margin:3em auto}label{display:block;margin:.6em 0}
input[type=text],input[type=password]{width:100%}.error{color:#b00}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function hidden(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

function errorLine(error: string | undefined): string {
  return error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
}

export function loginPage(options: {
  action: string;
  clientName: string;
  scopes: readonly string[];
  params: Record<string, string | undefined>;
  csrfToken: string;
  username?: string | undefined;
  error?: string | undefined;
}): string {
  return page(
    'Sign in to STUPS',
    `<p><strong>${escapeHtml(options.clientName)}</strong> asks for: ${escapeHtml(options.scopes.join(' '))}</p>
${errorLine(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ ...options.params, csrf_token: options.csrfToken })}
<label>User name <input type="text" name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function devicePage(options: {
  action: string;
  csrfToken: string;
  userCode?: string | undefined;
  username?: string | undefined;
  error?: string | undefined;
  message?: string | undefined;
}): string {
  if (options.message) return page('Device sign-in', `<p>${escapeHtml(options.message)}</p>`);
  return page(
    'Device sign-in',
    `<p>Enter the code your device shows, and sign in to approve it.</p>
${errorLine(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ csrf_token: options.csrfToken })}
<label>Code <input type="text" name="user_code" required autocomplete="off" value="${escapeHtml(options.userCode ?? '')}"></label>
<label>User name <input type="text" name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(message: string): string {
  return page('Sign-in failed', `<p class="error">${escapeHtml(message)}</p>`);
}
