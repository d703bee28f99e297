import { createHash } from 'node:crypto';

/*
 * The pages people see: the login of the authorization code flow, the device verification and
 * (aws/saml-sso-pages.ts) the AWS sign-in. Server-rendered, no scripts (but the SAML auto-post page's
 * one file of ours); every dynamic value goes through `escapeHtml`.
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

/*
 * The console's look (its palette, type and focus ring), kept here as one constant so the pages
 * need no stylesheet request and the CSP can allow exactly this style by its hash. Field borders
 * and the focus ring stand at least 3:1 against their ground (WCAG 1.4.11), in both schemes.
 */
const STYLE = `:root{--bg:#f6f7f9;--panel:#fff;--ink:#1d2330;--muted:#5b6475;--line:#d9dde4;--accent:#0b5cad;\
--accent-ink:#fff;--focus:#0b5cad;--field:#fff;--field-line:#6f7888;--bar:#15223b;--bar-ink:#fff;--bad:#b3261e;\
--error-bg:#fdf3f2;--error-line:#f1b7b2;color-scheme:light dark;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;\
font-size:16px;line-height:1.5;color:var(--ink);background:var(--bg)}
@media (prefers-color-scheme:dark){:root{--bg:#10151f;--panel:#1a2230;--ink:#e6e9ef;--muted:#a9b1bf;--line:#323c4e;\
--accent:#8ab8ff;--accent-ink:#0b1220;--focus:#ffc457;--field:#10151f;--field-line:#8a94a6;--bar:#0b1220;--bad:#ff8a80;\
--error-bg:#2a1614;--error-line:#7a2e28}}
*{box-sizing:border-box}body{margin:0}a{color:var(--accent)}
header{background:var(--bar);color:var(--bar-ink);padding:.75rem 1rem;font-weight:600}
main{padding:1.5rem 1rem}
.card{max-width:26rem;margin:0 auto;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:1.25rem}
h1{font-size:1.5rem;line-height:1.2;margin:0 0 .75rem}
p{margin:0 0 .75rem;overflow-wrap:anywhere}
label{display:block;margin:.75rem 0;font-weight:600}
input[type=text],input[type=password]{display:block;width:100%;margin-top:.25rem;padding:.5rem .6rem;font:inherit;\
color:var(--ink);background:var(--field);border:1px solid var(--field-line);border-radius:4px}
button{font:inherit;padding:.5rem 1rem;margin:.5rem .5rem 0 0;border-radius:4px;border:1px solid var(--accent);\
background:var(--accent);color:var(--accent-ink);cursor:pointer}
button.secondary{background:var(--panel);color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.scopes{color:var(--muted)}
fieldset{border:0;margin:0;padding:0}legend{font-weight:600;padding:0}
label.choice{display:flex;gap:.5rem;align-items:baseline;font-weight:400;margin:.5rem 0}
.error{color:var(--bad);background:var(--error-bg);border:1px solid var(--error-line);border-radius:4px;padding:.5rem .75rem}`;

/** CSP 3 `style-src` hash of exactly the page's `<style>` text: no other style may apply. */
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** Headers of every page: no caching, no framing (clickjacking), no scripts at all, only our style. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'`,
  'referrer-policy': 'no-referrer',
};

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · STUPS</title>
<style>${STYLE}</style></head>
<body><header>STUPS</header>
<main><div class="card"><h1>${escapeHtml(title)}</h1>
${body}
</div></main>
</body></html>`;
}

export function hidden(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

export function errorLine(error: string | undefined): string {
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
    `<p><strong>${escapeHtml(options.clientName)}</strong> asks for: <span class="scopes">${escapeHtml(options.scopes.join(' '))}</span></p>
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
  /** The user of the browser's sign-in session: Allow without the password (still a click). */
  signedInAs?: string | undefined;
}): string {
  if (options.message) return page('Device sign-in', `<p>${escapeHtml(options.message)}</p>`);
  const codeField = `<label>Code <input type="text" name="user_code" required autocomplete="off" value="${escapeHtml(options.userCode ?? '')}"></label>`;
  if (options.signedInAs !== undefined) {
    const anotherAccount = `${options.action}?${new URLSearchParams({ user_code: options.userCode ?? '', login: '1' })}`;
    return page(
      'Device sign-in',
      `<p>Enter the code your device shows. Allow signs the device in as <strong>${escapeHtml(options.signedInAs)}</strong>.</p>
${errorLine(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ csrf_token: options.csrfToken, with_session: '1' })}
${codeField}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" class="secondary" name="decision" value="deny">Deny</button>
</form>
<p><a href="${escapeHtml(anotherAccount)}">Not ${escapeHtml(options.signedInAs)}? Use another account</a></p>`,
    );
  }
  return page(
    'Device sign-in',
    `<p>Enter the code your device shows, and sign in to approve it.</p>
${errorLine(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ csrf_token: options.csrfToken })}
${codeField}
<label>User name <input type="text" name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" class="secondary" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(message: string): string {
  return page('Sign-in failed', `<p class="error" role="alert">${escapeHtml(message)}</p>`);
}

/** RP-Initiated Logout §2: a sign-out the client cannot vouch for (no ID token) is confirmed by the person. */
export function logoutConfirmPage(options: {
  action: string;
  csrfToken: string;
  params: Record<string, string | undefined>;
}): string {
  return page(
    'Sign out of STUPS',
    `<p>Do you want to sign out? Applications that signed you in through STUPS will ask for your password again.</p>
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ ...options.params, csrf_token: options.csrfToken })}
<button type="submit">Sign out</button>
</form>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', '<p>You are signed out of STUPS. You may close this page.</p>');
}

export function logoutErrorPage(message: string): string {
  return page('Sign-out failed', `<p class="error" role="alert">${escapeHtml(message)}</p>`);
}
