import { deflateRawSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { InputError, NotAllowedError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { TokenServiceAudit } from '../audit.js';
import type { TokenServiceTables } from '../tables.js';
import { CSRF_COOKIE, type Csrf, readCookie } from '../csrf.js';
import { errorPage, PAGE_HEADERS } from '../html.js';
import type { SignInSession } from '../session-store.js';
import { SESSION_COOKIE, sessionCookie } from '../sign-in-session.js';
import type { RequestMeta } from '../token-endpoint.js';
import {
  type AuthnRequest,
  AuthnRequestError,
  checkAuthnRequest,
  decodePostBinding,
  decodeRedirectBinding,
  type KnownServiceProvider,
} from './authn-request.js';
import { AnsweredAuthnRequests } from './authn-request-store.js';
import { type AwsRolesDeps, awsRolesOf } from './aws-roles.js';
import type { SamlIdp } from './saml.js';
import { ALREADY_ANSWERED, type SamlIssuer } from './saml-issuance.js';
import {
  AUTO_POST_SCRIPT,
  autoPostHeaders,
  autoPostPage,
  type CarriedFields,
  rolePage,
  samlLoginPage,
} from './saml-sso-pages.js';
import type { AwsIdpSettings } from './settings.js';

export const SAML_AWS_PATH = '/saml/aws';
export const SAML_SSO_PATH = '/saml/sso';
export const SAML_LOGIN_PATH = '/saml/login';
export const SAML_AUTO_POST_SCRIPT_PATH = '/saml/auto-post.js';

/** The SAML RelayState (where the SP lands the person) is echoed back; AWS takes console URLs. */
const MAX_RELAY_STATE = 2048;
/** Clock difference tolerated between an SP and us when checking an AuthnRequest's IssueInstant. */
const CLOCK_SKEW_MS = 60_000;

/** What the SSO pages use of the token service's browser sign-in (oauth-server.ts). */
export interface BrowserSignIn {
  currentSession(sessionId: string | undefined): Promise<SignInSession | undefined>;
  loginEmployee(
    username: string | undefined,
    password: string | undefined,
    page: string,
    meta: RequestMeta,
  ): Promise<{ uid: string } | { error: string }>;
  signIn(
    uid: string,
    previousId: string | undefined,
    meta: { requestId: string; clientId: string },
  ): Promise<{ id: string; session: SignInSession; maxAgeSeconds: number }>;
  csrf: Csrf;
  /**
   * Origins whose pages may post the IdP-initiated form without our CSRF token: the console's
   * (its "Sign in" buttons). The session cookie is SameSite=Lax, so a cross-site post carries no
   * session anyway; this also keeps out other origins of the same site.
   */
  formOrigins: readonly string[];
}

export interface SamlSsoDeps {
  issuer: string;
  db: Kysely<TokenServiceTables>;
  idp: SamlIdp;
  settings: AwsIdpSettings;
  roles: AwsRolesDeps;
  audit: TokenServiceAudit;
  now: () => number;
  browser: BrowserSignIn;
  /** Makes and audits the responses (saml-issuance.ts). */
  assertions: SamlIssuer;
}

/** Where a browser sign-in to AWS is going: the person's own choice, or an SP's AuthnRequest. */
type Flow =
  | {
      kind: 'aws';
      account?: string | undefined;
      role?: string | undefined;
      roleArn?: string | undefined;
      reason?: string | undefined;
      relayState?: string | undefined;
      /** The role was chosen with a post (the console's button): after the login, go straight on. */
      chosen: boolean;
    }
  | { kind: 'sso'; request: AuthnRequest; xml: string; relayState?: string | undefined };

class FlowError extends Error {}

/**
 * Browser SSO to AWS (issue 19): IdP-initiated at `/saml/aws` (a role chooser; the console's
 * buttons post to it) and SP-initiated at `/saml/sso` (an AuthnRequest, HTTP-Redirect or
 * HTTP-POST binding). Both sign in through the token service's session (or its password login
 * first), then answer with the HTTP-POST binding's page to the ACS URL. Pages, not problem+json:
 * a person reads them. Encapsulated, so its form parser stays its own.
 */
export function registerSamlSsoRoutes(app: HttpApp, deps: SamlSsoDeps): void {
  const saml = deps.settings.saml;
  const serviceProviders: KnownServiceProvider[] = saml.serviceProviders ?? [
    { entityId: saml.audience, acsUrls: [saml.destination] },
  ];
  const ssoUrl = `${deps.issuer}${SAML_SSO_PATH}`;
  const scriptUrl = `${deps.issuer}${SAML_AUTO_POST_SCRIPT_PATH}`;
  // Only real web origins: a redirect URI with a custom scheme has the origin "null", which is
  // also what a browser sends for an opaque or referrer-less origin, so it must never match.
  const allowedOrigins = new Set(
    [new URL(deps.issuer).origin, ...deps.browser.formOrigins].filter((o) => /^https?:\/\//.test(o)),
  );
  const { browser } = deps;
  const answeredRequests = new AnsweredAuthnRequests(deps.db as unknown as Kysely<never>);
  /** How long an AuthnRequest is accepted, and so how long its answer must be remembered. */
  const requestLifetimeMs = saml.authnRequestMaxAgeSeconds * 1000 + CLOCK_SKEW_MS;

  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    scope.get(SAML_AUTO_POST_SCRIPT_PATH, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .send(AUTO_POST_SCRIPT),
    );

    scope.get(
      SAML_AWS_PATH,
      {
        schema: {
          tags: ['aws'],
          summary: 'IdP-initiated SSO to AWS: your roles to choose from (`?account=&role=` preselects)',
        },
      },
      guarded(async (request, reply) => {
        const fields = stringFields(request.query);
        const flow: Flow = {
          kind: 'aws',
          account: fields.account,
          role: fields.role,
          roleArn: fields.role_arn,
          relayState: relayStateOf(fields),
          chosen: false,
        };
        const session = await sessionOf(request);
        if (!session) return showLogin(request, reply, flow);
        return showChooser(request, reply, flow, session);
      }),
    );

    scope.post(
      SAML_AWS_PATH,
      { schema: { hide: true } },
      guarded(async (request, reply) => {
        const fields = stringFields(request.body);
        // Our own chooser carries a CSRF token; the console's button is known by its Origin.
        const vouched =
          fields.csrf_token !== undefined ? csrfValid(request, fields.csrf_token) : originAllowed(request);
        if (!vouched) return formExpired(reply);
        const flow: Flow = {
          kind: 'aws',
          roleArn: fields.role_arn,
          reason: fields.reason,
          relayState: relayStateOf(fields),
          chosen: fields.role_arn !== undefined,
        };
        const session = await sessionOf(request);
        if (!session) return showLogin(request, reply, flow);
        if (!flow.roleArn)
          return showChooser(request, reply, flow, session, { status: 400, error: 'Choose a role.' });
        return choose(request, reply, flow, session);
      }),
    );

    scope.get(
      SAML_SSO_PATH,
      { schema: { tags: ['aws'], summary: 'SP-initiated SSO: an AuthnRequest (HTTP-Redirect binding)' } },
      async (request, reply) => {
        const fields = stringFields(request.query);
        let flow: Flow;
        try {
          flow = await ssoFlow(request, decodeRedirectBinding(required(fields, 'SAMLRequest')), fields);
        } catch (error) {
          return refusedRequest(reply, error);
        }
        const session = await sessionOf(request);
        if (!session) return showLogin(request, reply, flow);
        return showChooser(request, reply, flow, session);
      },
    );

    scope.post(
      SAML_SSO_PATH,
      { schema: { tags: ['aws'], summary: 'SP-initiated SSO: an AuthnRequest (HTTP-POST binding)' } },
      async (request, reply) => {
        const fields = stringFields(request.body);
        let flow: Extract<Flow, { kind: 'sso' }>;
        try {
          flow = await ssoFlow(request, decodePostBinding(required(fields, 'SAMLRequest')), fields);
        } catch (error) {
          return refusedRequest(reply, error);
        }
        if (fields.csrf_token === undefined) {
          // The SP's own post is cross-site: the SameSite=Lax session cookie is not sent with it.
          // The same request as a redirect (a top-level GET) carries it.
          const query = new URLSearchParams({
            SAMLRequest: deflateRawSync(Buffer.from(flow.xml)).toString('base64'),
            ...(flow.relayState !== undefined ? { RelayState: flow.relayState } : {}),
          });
          return reply.status(303).header('location', `${SAML_SSO_PATH}?${query}`).send();
        }
        if (!csrfValid(request, fields.csrf_token)) return formExpired(reply);
        const session = await sessionOf(request);
        if (!session) return showLogin(request, reply, flow);
        if (!fields.role_arn)
          return showChooser(request, reply, flow, session, { status: 400, error: 'Choose a role.' });
        return choose(request, reply, flow, session, fields.role_arn, fields.reason);
      },
    );

    scope.post(SAML_LOGIN_PATH, { schema: { hide: true } }, async (request, reply) => {
      const fields = stringFields(request.body);
      if (!csrfValid(request, fields.csrf_token)) return formExpired(reply);
      let flow: Flow;
      try {
        flow = await flowOf(request, fields);
      } catch (error) {
        return refusedRequest(reply, error);
      }
      const login = await browser.loginEmployee(fields.username, fields.password, 'saml', {
        requestId: request.id,
        source: request.ip,
      });
      if ('error' in login)
        return showLogin(request, reply, flow, {
          status: 401,
          error: login.error,
          username: fields.username,
        });
      // A new session id on every sign-in: the browser's old one (perhaps planted) ends here.
      const started = await browser.signIn(login.uid, readCookie(request.headers.cookie, SESSION_COOKIE), {
        requestId: request.id,
        clientId: flow.kind === 'sso' ? flow.request.issuer : 'aws',
      });
      reply.header('set-cookie', sessionCookie(started.id, started.maxAgeSeconds, isSecure(request)));
      if (flow.kind === 'aws' && flow.chosen && flow.roleArn)
        return choose(request, reply, flow, started.session);
      return showChooser(request, reply, flow, started.session);
    });
  });

  async function sessionOf(request: FastifyRequest) {
    return browser.currentSession(readCookie(request.headers.cookie, SESSION_COOKIE));
  }

  /** A checked AuthnRequest that has not been answered yet (a replay is refused before the login). */
  async function ssoFlow(
    httpRequest: FastifyRequest,
    xml: string,
    fields: CarriedFields,
  ): Promise<Extract<Flow, { kind: 'sso' }>> {
    const request = checkAuthnRequest(xml, {
      serviceProviders,
      ssoUrl,
      maxAgeMs: saml.authnRequestMaxAgeSeconds * 1000,
      skewMs: CLOCK_SKEW_MS,
      now: deps.now(),
    });
    if (await answeredRequests.answered(request.issuer, request.id, new Date(deps.now()))) {
      // A refused request for an assertion: audited like the others, by whoever's browser sent it.
      await deps.audit.standalone({
        event: 'token-service.aws.saml_assertion',
        actor: { uid: (await sessionOf(httpRequest))?.uid ?? 'anonymous' },
        outcome: 'refused',
        details: {
          channel: 'sp-initiated',
          reason: ALREADY_ANSWERED,
          service_provider: request.issuer,
          in_response_to: request.id,
        },
        requestId: httpRequest.id,
      });
      throw new AuthnRequestError(ALREADY_ANSWERED);
    }
    return { kind: 'sso', request, xml, relayState: relayStateOf(fields) };
  }

  /** The flow a login form carried; an SP's request is checked again (it may have expired meanwhile). */
  async function flowOf(httpRequest: FastifyRequest, fields: CarriedFields): Promise<Flow> {
    if (fields.flow === 'sso')
      return ssoFlow(httpRequest, decodePostBinding(required(fields, 'SAMLRequest')), fields);
    if (fields.flow !== 'aws') throw new FlowError('the form names no sign-in to continue');
    return {
      kind: 'aws',
      account: fields.account,
      role: fields.role,
      roleArn: fields.role_arn,
      reason: fields.reason,
      relayState: relayStateOf(fields),
      chosen: fields.chosen === '1',
    };
  }

  function carriedOf(flow: Flow, withChoice: boolean): CarriedFields {
    if (flow.kind === 'sso')
      return {
        flow: 'sso',
        SAMLRequest: Buffer.from(flow.xml).toString('base64'),
        RelayState: flow.relayState,
      };
    return {
      flow: 'aws',
      RelayState: flow.relayState,
      ...(withChoice
        ? {
            account: flow.account,
            role: flow.role,
            role_arn: flow.roleArn,
            reason: flow.reason,
            chosen: flow.chosen ? '1' : undefined,
          }
        : {}),
    };
  }

  function showLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: Flow,
    options: { status?: number; error?: string; username?: string | undefined } = {},
  ) {
    const csrfToken = issueCsrf(request, reply);
    return sendPage(
      reply,
      options.status ?? 200,
      samlLoginPage({
        action: SAML_LOGIN_PATH,
        csrfToken,
        carried: carriedOf(flow, true),
        username: options.username,
        error: options.error,
      }),
    );
  }

  async function showChooser(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: Flow,
    session: SignInSession,
    options: { status?: number; error?: string } = {},
  ) {
    const all = (await awsRolesOf(session.uid, deps.roles)).map((role) => ({
      ...role,
      reason_required: deps.assertions.reasonRequired(role),
    }));
    let roles = all;
    let error = options.error;
    let status = options.status ?? 200;
    if (flow.kind === 'aws' && (flow.account || flow.role)) {
      roles = all.filter(
        (r) =>
          (!flow.account || r.account_id === flow.account || r.account_name === flow.account) &&
          (!flow.role || r.role_name === flow.role),
      );
      if (roles.length === 0) {
        roles = all;
        error ??= 'You have no such role: choose one of yours.';
        status = 404;
      }
    }
    const csrfToken = issueCsrf(request, reply);
    return sendPage(
      reply,
      status,
      rolePage({
        action: flow.kind === 'sso' ? SAML_SSO_PATH : SAML_AWS_PATH,
        csrfToken,
        roles,
        signedInAs: session.uid,
        carried: carriedOf(flow, false),
        selected: flow.kind === 'aws' ? flow.roleArn : undefined,
        reason: flow.kind === 'aws' ? flow.reason : undefined,
        serviceProvider: flow.kind === 'sso' ? flow.request.issuer : undefined,
        error,
      }),
    );
  }

  async function choose(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: Flow,
    session: SignInSession,
    roleArn = flow.kind === 'aws' ? flow.roleArn : undefined,
    reason = flow.kind === 'aws' ? flow.reason : undefined,
  ) {
    const trimmedReason = reason?.trim().slice(0, 500) || undefined;
    const principal = { uid: session.uid, realm: 'employees' as const };
    const channel = flow.kind === 'sso' ? 'sp-initiated' : 'idp-initiated';
    let issued;
    try {
      issued = await deps.assertions.issue({
        principal,
        roleArn: roleArn ?? '',
        reason: trimmedReason,
        channel,
        serviceProvider:
          flow.kind === 'sso'
            ? {
                entityId: flow.request.issuer,
                acsUrl: flow.request.acsUrl,
                requestId: flow.request.id,
                requestExpires: new Date(flow.request.issueInstant.getTime() + requestLifetimeMs),
              }
            : undefined,
        authnInstant: session.authTime,
        requestId: request.id,
      });
    } catch (error) {
      if (
        !(error instanceof NotAllowedError) &&
        !(error instanceof InputError) &&
        !(error instanceof AuthnRequestError)
      )
        throw error;
      await deps.audit.standalone({
        event: 'token-service.aws.saml_assertion',
        actor: principal,
        targetId: roleArn,
        outcome: 'refused',
        details: {
          channel,
          reason: error.message,
          ...(flow.kind === 'sso'
            ? { service_provider: flow.request.issuer, in_response_to: flow.request.id }
            : {}),
        },
        requestId: request.id,
      });
      // A replayed AuthnRequest: nothing to choose again, the person starts over at the SP.
      if (error instanceof AuthnRequestError) return refusedRequest(reply, error);
      const retry: Flow =
        flow.kind === 'aws' ? { ...flow, account: undefined, role: undefined, roleArn, reason } : flow;
      return showChooser(request, reply, retry, session, {
        status: error instanceof NotAllowedError ? 403 : 400,
        error: error.message,
      });
    }
    return sendPage(
      reply,
      200,
      autoPostPage({
        acsUrl: issued.destination,
        samlResponse: Buffer.from(issued.xml).toString('base64'),
        relayState: flow.relayState,
        scriptUrl,
      }),
      autoPostHeaders(issued.destination, scriptUrl),
    );
  }

  function issueCsrf(request: FastifyRequest, reply: FastifyReply): string {
    const issued = browser.csrf.issue(readCookie(request.headers.cookie, CSRF_COOKIE));
    // Its own path: the /oauth2 pages' cookie (same name, same secret) is never sent here.
    reply.header(
      'set-cookie',
      `${CSRF_COOKIE}=${issued.cookie}; Path=/saml; HttpOnly; SameSite=Lax${isSecure(request) ? '; Secure' : ''}`,
    );
    return issued.token;
  }

  function csrfValid(request: FastifyRequest, token: string | undefined): boolean {
    return browser.csrf.verify(readCookie(request.headers.cookie, CSRF_COOKIE), token);
  }

  function originAllowed(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    return typeof origin === 'string' && allowedOrigins.has(origin);
  }

  function isSecure(request: FastifyRequest): boolean {
    return request.protocol === 'https' || deps.issuer.startsWith('https:');
  }
}

function formExpired(reply: FastifyReply) {
  return sendPage(
    reply,
    403,
    errorPage('The form expired or was not sent from this site. Please start again.'),
  );
}

/** A handler whose bad requests (FlowError, AuthnRequestError) are answered with a page. */
function guarded(handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      return refusedRequest(reply, error);
    }
  };
}

function refusedRequest(reply: FastifyReply, error: unknown) {
  if (error instanceof AuthnRequestError || error instanceof FlowError)
    return sendPage(reply, 400, errorPage(`The sign-in request was refused: ${error.message}.`));
  throw error;
}

function sendPage(
  reply: FastifyReply,
  status: number,
  html: string,
  headers: Record<string, string> = PAGE_HEADERS,
) {
  return reply.status(status).headers(headers).send(html);
}

/** Single-valued string fields of a query or form; repeated or non-string ones are left out. */
function stringFields(source: unknown): CarriedFields {
  const fields: CarriedFields = {};
  if (typeof source !== 'object' || source === null) return fields;
  for (const [name, value] of Object.entries(source)) if (typeof value === 'string') fields[name] = value;
  return fields;
}

function required(fields: CarriedFields, name: string): string {
  const value = fields[name];
  if (!value) throw new FlowError(`${name} is missing`);
  return value;
}

function relayStateOf(fields: CarriedFields): string | undefined {
  const value = fields.RelayState;
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_RELAY_STATE)
    throw new FlowError(`RelayState is longer than ${MAX_RELAY_STATE} characters`);
  return value;
}
