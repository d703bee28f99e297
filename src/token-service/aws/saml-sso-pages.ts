import { errorLine, escapeHtml, hidden, PAGE_HEADERS, page } from '../html.js';

/** A role as the chooser shows it. */
export interface RoleChoice {
  role_arn: string;
  role_name: string;
  account_id: string;
  account_name: string | null;
  reason_required: boolean;
}

/** The fields a form carries through the login and the chooser: the SP's request or the console's choice. */
export type CarriedFields = Record<string, string | undefined>;

/** Which role to sign in with; posts back to `action` with the CSRF token and what it carries. */
export function rolePage(options: {
  action: string;
  csrfToken: string;
  roles: readonly RoleChoice[];
  signedInAs: string;
  carried: CarriedFields;
  selected?: string | undefined;
  reason?: string | undefined;
  serviceProvider?: string | undefined;
  error?: string | undefined;
}): string {
  const title = 'Sign in to AWS';
  if (options.roles.length === 0)
    return page(
      title,
      `<p>You, <strong>${escapeHtml(options.signedInAs)}</strong>, have no AWS role: roles come with the membership of a team that owns AWS accounts.</p>`,
    );
  const onlyOne = options.roles.length === 1;
  const choices = options.roles
    .map((role) => {
      const account = role.account_name ? `${role.account_name} (${role.account_id})` : role.account_id;
      const checked = onlyOne || role.role_arn === options.selected ? ' checked' : '';
      const note = role.reason_required ? ' · needs a reason' : '';
      return `<label class="choice"><input type="radio" name="role_arn" value="${escapeHtml(role.role_arn)}" required${checked}> <span><strong>${escapeHtml(role.role_name)}</strong> in ${escapeHtml(account)}${note}</span></label>`;
    })
    .join('\n');
  const anyReason = options.roles.some((r) => r.reason_required);
  const where = options.serviceProvider ? ` for <strong>${escapeHtml(options.serviceProvider)}</strong>` : '';
  return page(
    title,
    `<p>Signed in as <strong>${escapeHtml(options.signedInAs)}</strong>. Choose the role to use${where}.</p>
${errorLine(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ ...options.carried, csrf_token: options.csrfToken })}
<fieldset><legend>AWS role</legend>
${choices}
</fieldset>
${
  anyReason
    ? `<label>Reason <span class="scopes">(for roles that need one; it is recorded)</span> <input type="text" name="reason" maxlength="500" autocomplete="off" value="${escapeHtml(options.reason ?? '')}"></label>`
    : ''
}
<button type="submit">Sign in to AWS</button>
</form>`,
  );
}

/** The platform's password login in front of the AWS sign-in; carries the request through. */
export function samlLoginPage(options: {
  action: string;
  csrfToken: string;
  carried: CarriedFields;
  username?: string | undefined;
  error?: string | undefined;
}): string {
  return page(
    'Sign in to STUPS',
    `<p>Sign in to continue to <strong>AWS</strong>.</p>
${errorLine(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
${hidden({ ...options.carried, csrf_token: options.csrfToken })}
<label>User name <input type="text" name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** The tiny script that submits the response form: an external file, so the CSP needs no inline script. */
export const AUTO_POST_SCRIPT = "document.getElementById('saml-response').submit();\n";

/**
 * The SAML HTTP-POST binding's page: a form to the SP's ACS URL with the response. A script
 * served by us (by its exact URL in the CSP) submits it; without scripts the button does.
 */
export function autoPostPage(options: {
  acsUrl: string;
  samlResponse: string;
  relayState: string | undefined;
  scriptUrl: string;
}): string {
  return page(
    'Signing in to AWS',
    `<p>Taking you to AWS…</p>
<form id="saml-response" method="post" action="${escapeHtml(options.acsUrl)}">
${hidden({ SAMLResponse: options.samlResponse, RelayState: options.relayState })}
<button type="submit">Continue to AWS</button>
</form>
<script src="${escapeHtml(options.scriptUrl)}"></script>`,
  );
}

/** Headers of the auto-post page: our one script by its URL, and form posts to the ACS origin. */
export function autoPostHeaders(acsUrl: string, scriptUrl: string): Record<string, string> {
  return {
    ...PAGE_HEADERS,
    'content-security-policy': PAGE_HEADERS['content-security-policy']
      .replace("form-action 'self'", `form-action ${new URL(acsUrl).origin}`)
      .replace("default-src 'none';", `default-src 'none'; script-src ${scriptUrl};`),
  };
}
