import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RedirectableError, UnredirectableError } from './authorization.js';
import { DEVICE_CODE_GRANT, GRANT_TYPES, IMPLICIT_GRANT } from './contract.js';
import { type CorsRoute, registerCors } from './cors.js';
import { CSRF_COOKIE, type Csrf, readCookie } from './csrf.js';
import { DEVICE_VERIFICATION_PATH } from './device-flow.js';
import { END_SESSION_PATH, type LogoutRequest, LogoutRefusedError } from './end-session.js';
import {
  devicePage,
  errorPage,
  loginPage,
  loginPageHeaders,
  logoutConfirmPage,
  logoutErrorPage,
  PAGE_HEADERS,
  signedOutPage,
} from './html.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthServer } from './oauth-server.js';
import {
  clientCredentials,
  collectParams,
  type OAuthParams,
  parseBasic,
  parseForm,
  refuseCredentialsInQuery,
  required,
} from './params.js';
import { addRouteHook } from '../platform/http/route-hooks.js';
import { AWS_ROLES_PATH, SAML_ASSERTION_PATH, SAML_METADATA_PATH } from './aws/routes.js';
import { clearedSessionCookie, SESSION_COOKIE, sessionCookie } from './sign-in-session.js';
import type { RequestMeta } from './token-endpoint.js';

const TOKEN_PATHS = ['/oauth2/access_token', '/oauth2/token'];
const AUTHORIZE_PATH = '/oauth2/authorize';
const JWKS_PATHS = ['/.well-known/jwks.json', '/oauth2/connect/keys'];
/** OIDC Discovery 1.0 and RFC 8414: one document, at both well-known names. */
const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

/** Endpoints browser apps of other origins may call (see `corsAllowedOrigins`). */
const CORS_ROUTES: CorsRoute[] = [
  ...[...DISCOVERY_PATHS, ...JWKS_PATHS].map((url) => ({
    url,
    methods: ['GET'],
    audience: 'public' as const,
  })),
  ...[...TOKEN_PATHS, '/oauth2/introspect', '/oauth2/revoke'].map((url) => ({
    url,
    methods: ['POST'],
    audience: 'listed' as const,
  })),
  { url: '/oauth2/userinfo', methods: ['GET', 'POST'], audience: 'listed' },
];
const AUTHORIZATION_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'resource',
] as const;

/** RFC 6749 §5.1: token answers must never be cached. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * The token service's HTTP surface. Registered as an encapsulated plugin, so its error handler
 * answers protocol errors in the OAuth shape `{error, error_description}` instead of problem+json.
 */
export function tokenServiceRoutes(server: OAuthServer, csrf: Csrf) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => {
        try {
          done(null, parseForm(body as string));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
    );

    app.setErrorHandler((error, request, reply) => {
      if (error instanceof OAuthError) {
        reply
          .status(error.status)
          .headers({ ...NO_STORE, ...error.headers })
          .send(error.toJSON());
        return;
      }
      const status = (error as { statusCode?: number }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        reply
          .status(status)
          .headers(NO_STORE)
          .send({ error: 'invalid_request', error_description: (error as Error).message });
        return;
      }
      request.log.error({ err: error, req: request }, 'token service failure');
      reply.status(500).send({
        error: 'server_error',
        error_description: 'the token service failed; the failure was logged',
      });
    });

    // Every endpoint that authenticates a client or a user: credentials in the URL are refused.
    // Callback style, not async: a promise and a microtask turn less on every request; and a hook
    // of those routes only, so that GET routes do not even call it (issue 23). Added before any
    // route, the CORS preflights included, so that it sees them all.
    addRouteHook(
      app,
      'preHandler',
      (route) => route.method !== 'GET' || route.url === '/oauth2/access_token',
      (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
        try {
          // A route of several methods (or HEAD of a GET route) gets the hook; the method decides.
          if (request.method !== 'GET' || request.routeOptions.url === '/oauth2/access_token') {
            refuseCredentialsInQuery(request.query);
          }
        } catch (error) {
          done(error as Error);
          return;
        }
        done();
      },
    );

    registerCors(app, server.corsAllowedOrigins, CORS_ROUTES);

    const tokenHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const params = collectParams(request.query, request.body);
      const credentials = clientCredentials(params, request.headers.authorization);
      const response = await server.token(params, credentials, requestMeta(request));
      reply.headers(NO_STORE);
      return response;
    };
    for (const url of TOKEN_PATHS) {
      app.post(
        url,
        { schema: { tags: ['oauth2'], summary: 'Token endpoint (RFC 6749 §3.2)' } },
        tokenHandler,
      );
    }

    // Zign 1.0: GET with the employee's Basic user:password, answered with JSON.
    app.get(
      '/oauth2/access_token',
      { schema: { tags: ['oauth2'], summary: 'Legacy Zign 1.0 token request' } },
      async (request, reply) => {
        const query = collectParams(request.query);
        const basic = parseBasic(request.headers.authorization);
        if (!basic) {
          throw new OAuthError('invalid_request', 'send the user name and password as Basic credentials', {
            status: 401,
            headers: { 'www-authenticate': 'Basic realm="stups"' },
          });
        }
        const params: OAuthParams = {
          grant_type: 'password',
          username: basic.username,
          password: basic.password,
          ...(query.scope !== undefined ? { scope: query.scope } : {}),
          ...(query.realm !== undefined ? { realm: query.realm } : {}),
        };
        const credentials = { clientId: server.legacyClientId, secret: undefined, basic: false };
        let response;
        try {
          response = await server.token(params, credentials, requestMeta(request));
        } catch (error) {
          // Clients of this flow ask for the password again only on 401 (a throttled guess, answered
          // like a wrong password, too): the credentials were the user's, so it is an HTTP auth failure.
          if (error instanceof OAuthError && error.error === 'invalid_grant') {
            throw new OAuthError('invalid_grant', error.message, {
              status: 401,
              headers: { 'www-authenticate': 'Basic realm="stups"' },
            });
          }
          throw error;
        }
        reply.headers(NO_STORE);
        return response;
      },
    );

    app.get(
      '/oauth2/tokeninfo',
      { schema: { tags: ['oauth2'], summary: 'STUPS tokeninfo' } },
      // Not async: a token answered from memory is sent without a promise on the way (issue 23).
      (request, reply) => {
        const token = accessTokenOf(request);
        const cached = server.cachedTokenInfoJson(token);
        if (cached !== undefined) {
          reply.headers(NO_STORE).type(JSON_UTF8).send(cached);
          return undefined;
        }
        return server.tokenInfoJson(token).then((body) => {
          reply.headers(NO_STORE).type(JSON_UTF8).send(body);
        });
      },
    );

    app.post(
      '/oauth2/introspect',
      { schema: { tags: ['oauth2'], summary: 'Token introspection (RFC 7662)' } },
      async (request, reply) => {
        const params = collectParams(request.body);
        const client = await authenticatedClient(server, params, request);
        if (client.type !== 'confidential') {
          throw new OAuthError('invalid_client', 'introspection needs a confidential client');
        }
        const token = required(params, 'token');
        reply.headers(NO_STORE);
        return server.introspect(token, params.token_type_hint, client);
      },
    );

    app.post(
      '/oauth2/revoke',
      { schema: { tags: ['oauth2'], summary: 'Token revocation (RFC 7009)' } },
      async (request, reply) => {
        const params = collectParams(request.body);
        let client: Awaited<ReturnType<typeof authenticatedClient>>;
        try {
          client = await authenticatedClient(server, params, request);
        } catch (error) {
          // A refused revocation is a refused write: it leaves a trace like every other one.
          if (error instanceof OAuthError) {
            const clientId = clientCredentials(params, request.headers.authorization)?.clientId;
            await server.recordRefusedRevocation(clientId, error, request.id);
          }
          throw error;
        }
        const token = required(params, 'token');
        await server.revoke(token, params.token_type_hint, client, request.id);
        reply.headers(NO_STORE).status(200).send();
      },
    );

    const userInfo = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.headers(NO_STORE);
      return server.userInfo(bearerOf(request));
    };
    app.get('/oauth2/userinfo', { schema: { tags: ['oidc'], summary: 'OIDC userinfo' } }, userInfo);
    app.post('/oauth2/userinfo', { schema: { hide: true } }, userInfo);

    app.post(
      '/oauth2/device_authorization',
      { schema: { tags: ['oauth2'], summary: 'Device authorization (RFC 8628 §3.1)' } },
      async (request, reply) => {
        const params = collectParams(request.body);
        const credentials = clientCredentials(params, request.headers.authorization);
        reply.headers(NO_STORE);
        return server.startDeviceAuthorization(params, credentials, requestMeta(request));
      },
    );

    const jwks = async (_request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', `public, max-age=${server.jwksCacheSeconds}`);
      return server.jwks();
    };
    app.get(JWKS_PATHS[0]!, { schema: { tags: ['oidc'], summary: 'Public signing keys' } }, jwks);
    app.get(JWKS_PATHS[1]!, { schema: { hide: true } }, jwks);

    const discovery = async () => discoveryDocument(server);
    app.get(DISCOVERY_PATHS[0]!, { schema: { tags: ['oidc'], summary: 'OIDC discovery' } }, discovery);
    app.get(
      DISCOVERY_PATHS[1]!,
      { schema: { tags: ['oauth2'], summary: 'Authorization server metadata (RFC 8414)' } },
      discovery,
    );

    // --- HTML pages: errors are pages, not JSON ---

    app.get(
      AUTHORIZE_PATH,
      { schema: { tags: ['oauth2'], summary: 'Authorization endpoint (login page)' } },
      async (request, reply) => {
        let params: OAuthParams;
        try {
          params = collectParams(request.query);
        } catch (error) {
          return sendPage(reply, 400, errorPage((error as Error).message));
        }
        return authorize(request, reply, params);
      },
    );

    app.post(AUTHORIZE_PATH, { schema: { hide: true } }, async (request, reply) => {
      let params: OAuthParams;
      try {
        params = collectParams(request.body);
      } catch (error) {
        return sendPage(reply, 400, errorPage((error as Error).message));
      }
      // Only our login form carries a CSRF token. Without one this is an authorization request
      // sent as a form (OIDC Core §3.1.2.1), answered like GET: it never logs anyone in.
      if (params.csrf_token === undefined) return authorize(request, reply, params);
      if (!csrf.verify(readCookie(request.headers.cookie, CSRF_COOKIE), params.csrf_token)) {
        return sendPage(
          reply,
          403,
          errorPage('The form expired or was not sent from this site. Please start again.'),
        );
      }
      const validated = await validateOrAnswer(params, reply);
      if (!validated) return reply;
      const login = await server.loginEmployee(
        params.username,
        params.password,
        'authorize',
        requestMeta(request),
      );
      if ('error' in login) return renderLogin(request, reply, params, login.error, 401);
      // A new session id on every sign-in: the browser's old one (perhaps planted) ends here.
      const started = await server.signIn(login.uid, readCookie(request.headers.cookie, SESSION_COOKIE), {
        requestId: request.id,
        clientId: validated.client.clientId,
      });
      reply.header('set-cookie', sessionCookie(started.id, started.maxAgeSeconds, isSecure(request)));
      return reply
        .status(303)
        .header(
          'location',
          await server.completeAuthorization(
            validated,
            login.uid,
            request.id,
            started.session.authTime,
            started.session.idHash,
          ),
        )
        .send();
    });

    // OIDC RP-Initiated Logout 1.0: GET, or POST as a form (§2); our confirmation form carries a CSRF token.
    app.get(
      END_SESSION_PATH,
      { schema: { tags: ['oidc'], summary: 'End-session endpoint (OIDC RP-Initiated Logout)' } },
      async (request, reply) => endSessionRequest(request, reply, request.query, false),
    );
    app.post(END_SESSION_PATH, { schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (body.csrf_token === undefined) return endSessionRequest(request, reply, body, false);
      if (
        !csrf.verify(
          readCookie(request.headers.cookie, CSRF_COOKIE),
          typeof body.csrf_token === 'string' ? body.csrf_token : undefined,
        )
      ) {
        return sendPage(
          reply,
          403,
          logoutErrorPage('The form expired or was not sent from this site. Please start again.'),
        );
      }
      const { csrf_token: _confirmed, ...rest } = body;
      return endSessionRequest(request, reply, rest, true);
    });

    app.get(
      DEVICE_VERIFICATION_PATH,
      { schema: { tags: ['oauth2'], summary: 'Device verification page' } },
      async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        const userCode = typeof query.user_code === 'string' ? query.user_code : undefined;
        // Signed in: the page offers Allow for the session's user; `login=1` asks the password instead.
        const session =
          query.login === '1'
            ? undefined
            : await server.currentSession(readCookie(request.headers.cookie, SESSION_COOKIE));
        const { token } = issueCsrf(request, reply);
        return sendPage(
          reply,
          200,
          devicePage({
            action: DEVICE_VERIFICATION_PATH,
            csrfToken: token,
            userCode,
            signedInAs: session?.uid,
          }),
        );
      },
    );

    app.post(DEVICE_VERIFICATION_PATH, { schema: { hide: true } }, async (request, reply) => {
      let params: OAuthParams;
      try {
        params = collectParams(request.body);
      } catch (error) {
        return sendPage(reply, 400, errorPage((error as Error).message));
      }
      if (!csrf.verify(readCookie(request.headers.cookie, CSRF_COOKIE), params.csrf_token)) {
        return sendPage(
          reply,
          403,
          errorPage('The form expired or was not sent from this site. Please start again.'),
        );
      }
      // The session decides only when its form was sent (an explicit Allow), never a password form.
      const session =
        params.with_session === '1'
          ? await server.currentSession(readCookie(request.headers.cookie, SESSION_COOKIE))
          : undefined;
      const again = (status: number, error: string, signedInAs = session?.uid) => {
        const { token } = issueCsrf(request, reply);
        return sendPage(
          reply,
          status,
          devicePage({
            action: DEVICE_VERIFICATION_PATH,
            csrfToken: token,
            userCode: params.user_code,
            username: params.username,
            error,
            signedInAs,
          }),
        );
      };
      if (params.with_session === '1' && !session)
        return again(401, 'Your sign-in has ended. Sign in with your password to continue.');
      if (params.decision !== 'approve' && params.decision !== 'deny')
        return again(400, session ? 'Choose Allow or Deny.' : 'Choose Approve or Deny.');
      let uid: string;
      if (session) uid = session.uid;
      else {
        const login = await server.loginEmployee(
          params.username,
          params.password,
          'device',
          requestMeta(request),
        );
        if ('error' in login) return again(401, login.error);
        uid = login.uid;
      }
      const decided = await server.decideDevice(
        params.user_code ?? '',
        uid,
        params.decision === 'approve',
        request.id,
        session ? 'session' : 'password',
      );
      if (!decided) return again(400, 'This code is unknown or has expired.');
      const message =
        params.decision === 'approve'
          ? 'The device is signed in. You may close this page.'
          : 'The request was denied. You may close this page.';
      const { token } = issueCsrf(request, reply);
      return sendPage(
        reply,
        200,
        devicePage({ action: DEVICE_VERIFICATION_PATH, csrfToken: token, message }),
      );
    });

    /**
     * An authorization request (GET, or POST without our form's token): answered by the sign-in
     * session when it may be, else the login page.
     */
    async function authorize(request: FastifyRequest, reply: FastifyReply, params: OAuthParams) {
      const validated = await validateOrAnswer(params, reply);
      if (!validated) return reply;
      const session = await server.currentSession(readCookie(request.headers.cookie, SESSION_COOKIE));
      let location: string | undefined;
      try {
        location = await server.authorizeWithSession(validated, session, request.id);
      } catch (error) {
        if (error instanceof RedirectableError)
          return reply.status(303).header('location', error.location).send();
        throw error;
      }
      if (location !== undefined) return reply.status(303).header('location', location).send();
      return renderLogin(request, reply, params, undefined, 200);
    }

    /**
     * Signs out when the request is vouched for (an ID token of ours naming the session's user, or
     * our confirmation form); otherwise asks the person first, so a link on another site cannot
     * sign anyone out. Nothing but a registered URI of the client is ever redirected to.
     */
    async function endSessionRequest(
      request: FastifyRequest,
      reply: FastifyReply,
      source: unknown,
      confirmed: boolean,
    ) {
      let params: OAuthParams;
      let logout: LogoutRequest;
      try {
        params = collectParams(source);
        logout = await server.validateLogout(params);
      } catch (error) {
        if (!(error instanceof LogoutRefusedError) && !(error instanceof OAuthError)) throw error;
        await server.recordRefusedLogout(error.message, request.id);
        return sendPage(reply, 400, logoutErrorPage(error.message));
      }
      const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
      const session = await server.currentSession(sessionId);
      const redirect = server.logoutRedirect(logout);
      const headers = redirect ? loginPageHeaders(redirect) : PAGE_HEADERS;
      const vouched = confirmed || !session || logout.hintedUid === session.uid;
      if (!vouched) {
        const { token } = issueCsrf(request, reply);
        const carried = Object.fromEntries(
          ['client_id', 'post_logout_redirect_uri', 'state'].map((name) => [name, params[name]]),
        );
        return sendPage(
          reply,
          200,
          logoutConfirmPage({ action: END_SESSION_PATH, csrfToken: token, params: carried }),
          headers,
        );
      }
      await server.endSession(logout, sessionId, request.id);
      reply.header('set-cookie', clearedSessionCookie(isSecure(request)));
      if (redirect) return reply.status(303).headers(NO_STORE).header('location', redirect).send();
      return sendPage(reply, 200, signedOutPage(), headers);
    }

    function isSecure(request: FastifyRequest): boolean {
      return request.protocol === 'https' || server.issuer.startsWith('https:');
    }

    async function validateOrAnswer(params: OAuthParams, reply: FastifyReply) {
      try {
        return await server.validateAuthorization(params);
      } catch (error) {
        if (error instanceof UnredirectableError) {
          sendPage(reply, 400, errorPage(error.message));
          return undefined;
        }
        if (error instanceof RedirectableError) {
          reply.status(303).header('location', error.location).send();
          return undefined;
        }
        throw error;
      }
    }

    async function renderLogin(
      request: FastifyRequest,
      reply: FastifyReply,
      params: OAuthParams,
      error: string | undefined,
      status: number,
    ) {
      const validated = await validateOrAnswer(params, reply);
      if (!validated) return reply;
      const { token } = issueCsrf(request, reply);
      const carried = Object.fromEntries(AUTHORIZATION_PARAMS.map((name) => [name, params[name]]));
      return sendPage(
        reply,
        status,
        loginPage({
          action: AUTHORIZE_PATH,
          clientName: validated.client.name,
          scopes: validated.scopes,
          params: carried,
          csrfToken: token,
          username: params.username,
          error,
        }),
        loginPageHeaders(validated.redirectUri),
      );
    }

    function issueCsrf(request: FastifyRequest, reply: FastifyReply) {
      const issued = csrf.issue(readCookie(request.headers.cookie, CSRF_COOKIE));
      const secure = server.issuer.startsWith('https:') ? '; Secure' : '';
      reply.header(
        'set-cookie',
        `${CSRF_COOKIE}=${issued.cookie}; Path=/oauth2; HttpOnly; SameSite=Lax${secure}`,
      );
      return issued;
    }
  };
}

function requestMeta(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, source: request.ip };
}

function sendPage(
  reply: FastifyReply,
  status: number,
  html: string,
  headers: Record<string, string> = PAGE_HEADERS,
) {
  return reply.status(status).headers(headers).send(html);
}

function bearerOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) {
    throw new OAuthError('invalid_request', 'an access token is required (Authorization: Bearer <token>)', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="stups"' },
    });
  }
  return match[1]!;
}

/** tokeninfo: `?access_token=` or a Bearer header, but not both (RFC 6750 §2). */
function accessTokenOf(request: FastifyRequest): string {
  const query = collectParams(request.query);
  const header = request.headers.authorization;
  if (query.access_token !== undefined && header) {
    throw new OAuthError(
      'invalid_request',
      'send the access token either as parameter or as header, not both',
    );
  }
  if (query.access_token !== undefined) return query.access_token;
  if (!header) throw new OAuthError('invalid_request', 'the access token is missing');
  return bearerOf(request);
}

async function authenticatedClient(server: OAuthServer, params: OAuthParams, request: FastifyRequest) {
  const credentials = clientCredentials(params, request.headers.authorization);
  if (!credentials)
    throw new OAuthError('invalid_client', 'client authentication is required (Basic or client_id)');
  return server.authenticateClient(credentials, request.ip);
}

async function discoveryDocument(server: OAuthServer) {
  const base = server.issuer;
  // The legacy implicit flow is advertised only while some client may use it.
  const implicit = await server.offersImplicitFlow();
  return {
    issuer: base,
    authorization_endpoint: `${base}${AUTHORIZE_PATH}`,
    token_endpoint: `${base}/oauth2/access_token`,
    device_authorization_endpoint: `${base}/oauth2/device_authorization`,
    userinfo_endpoint: `${base}/oauth2/userinfo`,
    end_session_endpoint: `${base}${END_SESSION_PATH}`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    introspection_endpoint: `${base}/oauth2/introspect`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    tokeninfo_endpoint: `${base}/oauth2/tokeninfo`,
    // ADR 0010: Mai recognises a STUPS token service (rather than another IdP) by this member.
    aws_roles_endpoint: `${base}${AWS_ROLES_PATH}`,
    aws_saml_assertion_endpoint: `${base}${SAML_ASSERTION_PATH}`,
    saml_metadata_uri: `${base}${SAML_METADATA_PATH}`,
    response_types_supported: implicit ? ['code', 'token'] : ['code'],
    response_modes_supported: implicit ? ['query', 'fragment'] : ['query'],
    grant_types_supported: implicit ? [...GRANT_TYPES, IMPLICIT_GRANT] : [...GRANT_TYPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...server.idTokenSigningAlgorithms],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: server.employeeScopes,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'name',
      'email',
      'preferred_username',
      'realm',
    ],
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    realms_supported: ['/employees', '/services'],
    device_code_grant_type: DEVICE_CODE_GRANT,
  };
}
