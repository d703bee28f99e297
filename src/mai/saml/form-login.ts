import { CliError } from '../../platform/cli/cli-error.js';
import { DEFAULT_CLI_TIMEOUT_MS, networkErrorCode } from '../../platform/cli/http-client.js';
import { rolesOfSamlResponse, type SamlRole } from './assertion-roles.js';
import { formFields, type HtmlForm, htmlForms, inputValue } from './html-forms.js';

/** What a form login at a company's SAML IdP yields: the Response for STS, and its roles. */
export interface SamlLogin {
  /** Base64, as the IdP posted it and as STS's AssumeRoleWithSAML takes it. */
  samlResponse: string;
  roles: SamlRole[];
}

/** The IdP showed its login form again after the password: STUPS Mai's "Authentication Failed". */
export class AuthenticationFailedError extends CliError {}

export interface FormLoginOptions {
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
}

const MAX_REDIRECTS = 10;
/** Login form, then at most a few "continue" forms (consent, no-JavaScript relay) before the SAMLResponse. */
const MAX_FORMS = 5;

interface Page {
  url: string;
  status: number;
  html: string;
}

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  domain: boolean;
}

/**
 * Cookies as far as a login needs them: per host (or a `Domain` and its subdomains) and path,
 * removed by `Max-Age=0` or a past `Expires`. They live only as long as one login.
 */
class CookieJar {
  readonly #cookies = new Map<string, Cookie>();

  store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie: Cookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        host: url.hostname,
        path: '/',
        domain: false,
      };
      let expired = false;
      let path: string | undefined;
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const value = rest.join('=').trim();
        const k = key.trim().toLowerCase();
        if (k === 'path' && value.startsWith('/')) path = value;
        else if (k === 'domain' && value) {
          const domain = value.replace(/^\./, '').toLowerCase();
          // A cookie for another site is ignored, as browsers ignore it.
          if (url.hostname !== domain && !url.hostname.endsWith(`.${domain}`)) expired = true;
          cookie.host = domain;
          cookie.domain = true;
        } else if (k === 'max-age' && Number(value) <= 0) expired = true;
        else if (k === 'expires' && Date.parse(value) < Date.now()) expired = true;
      }
      // Without Path: the request's directory (RFC 6265 5.1.4).
      cookie.path = path ?? (url.pathname.replace(/\/[^/]*$/, '') || '/');
      const key = `${cookie.host}\t${cookie.path}\t${cookie.name}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, cookie);
    }
  }

  header(url: URL): string | undefined {
    const host = url.hostname;
    const pairs = [...this.#cookies.values()]
      .filter((c) => (c.domain ? host === c.host || host.endsWith(`.${c.host}`) : host === c.host))
      .filter(
        (c) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`);
    return pairs.length ? pairs.join('; ') : undefined;
  }
}

/** A browser for one login: cookies, redirects (303 → GET, 307/308 keep the POST), HTML answers. */
class Browser {
  readonly #jar = new CookieJar();
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(
    private readonly idpUrl: string,
    options: FormLoginOptions,
  ) {
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
  }

  async go(method: 'GET' | 'POST', url: string, form?: URLSearchParams): Promise<Page> {
    let target = new URL(url);
    let body = form;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const cookie = this.#jar.header(target);
      let response: Response;
      try {
        response = await this.#fetch(target, {
          method: body ? method : 'GET',
          redirect: 'manual',
          signal: AbortSignal.timeout(this.#timeoutMs),
          headers: {
            accept: 'text/html,application/xhtml+xml',
            ...(cookie ? { cookie } : {}),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(body ? { body: body.toString() } : {}),
        });
      } catch (error) {
        if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
          throw new CliError(
            `the identity provider at ${this.idpUrl} did not answer within ${this.#timeoutMs / 1000} s`,
          );
        }
        throw new CliError(
          `cannot reach the identity provider at ${this.idpUrl}: ${networkErrorCode(error)}`,
        );
      }
      this.#jar.store(target, response.headers);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        target = new URL(location, target);
        // 301/302/303 turn a POST into a GET, as browsers do; 307/308 repeat it.
        if (response.status !== 307 && response.status !== 308) {
          body = undefined;
          method = 'GET';
        }
        continue;
      }
      return { url: target.toString(), status: response.status, html: await response.text() };
    }
    throw new CliError(`the identity provider at ${this.idpUrl} redirected more than ${MAX_REDIRECTS} times`);
  }
}

const isPassword = (form: HtmlForm) => form.inputs.some((i) => i.type === 'password');
const USER_FIELD = /user|login|name|mail|uid|account/i;

/** The form's fields with the user name and password filled in (Shibboleth: j_username, j_password). */
function loginFields(form: HtmlForm, user: string, password: string): URLSearchParams {
  const textual = form.inputs.filter((i) => ['text', 'email'].includes(i.type));
  const userInput = textual.find((i) => USER_FIELD.test(i.name)) ?? textual[0];
  const passwordInput = form.inputs.find((i) => i.type === 'password')!;
  const fields = new URLSearchParams();
  for (const [name, value] of formFields(form)) {
    if (name === userInput?.name) fields.append(name, user);
    else if (name === passwordInput.name) fields.append(name, password);
    else fields.append(name, value);
  }
  return fields;
}

/**
 * STUPS Mai's login at a company's SAML IdP (aws_saml_login): open the IdP's URL, fill the login
 * form with the user and password, follow redirects with the session cookies, and read the
 * `SAMLResponse` the IdP would post to AWS. The password goes only into that one form post.
 */
export async function samlFormLogin(
  url: string,
  user: string,
  password: string,
  options: FormLoginOptions = {},
): Promise<SamlLogin> {
  const browser = new Browser(url, options);
  let page = await browser.go('GET', url);
  let submittedPassword = false;
  for (let step = 0; step <= MAX_FORMS; step++) {
    if (page.status >= 400) {
      throw new CliError(`the identity provider answered ${page.status} at ${page.url}`);
    }
    const encoded = inputValue(page.html, 'SAMLResponse');
    if (encoded !== undefined) {
      const samlResponse = encoded.replace(/\s+/g, '');
      const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
      return { samlResponse, roles: rolesOfSamlResponse(xml) };
    }
    const forms = htmlForms(page.html);
    const login = forms.find(isPassword);
    if (login) {
      // The login form again after the password: the IdP did not accept it.
      if (submittedPassword)
        throw new AuthenticationFailedError(`Authentication Failed for ${user} at ${url}`);
      submittedPassword = true;
      page = await browser.go(
        login.method,
        new URL(login.action, page.url).toString(),
        loginFields(login, user, password),
      );
      continue;
    }
    // A form without visible fields is a relay that JavaScript would submit (or a "Continue").
    const relay = forms.find((f) => f.inputs.every((i) => ['hidden', 'submit'].includes(i.type)));
    if (!relay) break;
    const fields = new URLSearchParams(formFields(relay));
    const target = new URL(relay.action, page.url);
    if (relay.method === 'GET') {
      target.search = fields.toString();
      page = await browser.go('GET', target.toString());
    } else {
      page = await browser.go('POST', target.toString(), fields);
    }
  }
  throw new CliError(
    submittedPassword
      ? `the identity provider at ${url} sent no SAMLResponse after the login (last page ${page.url})`
      : `the identity provider at ${url} shows no login form and no SAMLResponse (last page ${page.url})`,
  );
}
