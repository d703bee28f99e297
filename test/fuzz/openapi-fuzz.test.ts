import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/platform/logger.js';
import { parseSettingsTree } from '../../src/stups/settings.js';
import { type RunningPlatform, startPlatform } from '../../src/stups/runtime.js';
import {
  type FuzzRequest,
  malformedOAuthForms,
  malformedRequests,
  type Operation,
  shuffled,
} from './malformed-requests.js';

/*
 * Malformed input over every route of every service's /openapi.json (plus the OAuth form
 * endpoints and the OCI /v2/ routes, which the documents leave out), each request once with a
 * valid token and once without, against the whole platform as `stups up` starts it. No answer
 * may be a 5xx, and every 4xx outside the OAuth and OCI protocols must be problem+json.
 * Bounded: at most MAX_REQUESTS requests, SEND_BUDGET_MS of sending, and sending ends
 * FILE_BUDGET_MS after the file started; the requests go in a fixed shuffled order, so a run cut
 * short still samples every service and route.
 */

const MAX_REQUESTS = 12_000;
const SEND_BUDGET_MS = 35_000;
/** The whole file, platform start included, ends sending by then (a loaded CI machine starts slowly). */
const FILE_BUDGET_MS = 55_000;
const fileStarted = Date.now();
const CONCURRENCY = 8;

/** Routes that answer in their protocol's error shape instead of problem+json. */
function speaksProtocol(service: string, route: string): boolean {
  if (service === 'token-service') return true; // OAuth 2.0 {error, error_description}
  if (service === 'pierone' && route.startsWith('/v2')) return true; // OCI {errors: [...]}
  if (service === 'console' && route.startsWith('/api/token-service')) return true; // proxied OAuth
  return false;
}

const OCI_ROUTES: Record<string, Record<string, Operation>> = {
  '/v2/': { get: {} },
  '/v2/{team}/{artifact}/tags/list': {
    get: {
      parameters: [
        { in: 'query', name: 'n' },
        { in: 'query', name: 'last' },
      ],
    },
  },
  '/v2/{team}/{artifact}/manifests/{reference}': { get: {}, head: {}, put: {}, delete: {} },
  '/v2/{team}/{artifact}/blobs/{digest}': { get: {}, head: {} },
  '/v2/{team}/{artifact}/blobs/uploads/': {
    post: {
      parameters: [
        { in: 'query', name: 'mount' },
        { in: 'query', name: 'from' },
        { in: 'query', name: 'digest' },
      ],
    },
  },
  '/v2/{team}/{artifact}/blobs/uploads/{uuid}': {
    get: {},
    patch: {},
    put: { parameters: [{ in: 'query', name: 'digest' }] },
    delete: {},
  },
  '/v2/token': {
    get: {
      parameters: [
        { in: 'query', name: 'scope' },
        { in: 'query', name: 'service' },
      ],
    },
  },
};

const AUTHORIZE_QUERY: Operation = {
  parameters: [
    'client_id',
    'redirect_uri',
    'response_type',
    'scope',
    'state',
    'code_challenge',
    'code_challenge_method',
    'nonce',
  ].map((name) => ({ in: 'query', name })),
};

const FORM_ROUTES = [
  '/oauth2/token',
  '/oauth2/access_token',
  '/oauth2/introspect',
  '/oauth2/revoke',
  '/oauth2/device_authorization',
];

interface Finding {
  request: FuzzRequest;
  token: boolean;
  status: number;
  contentType: string;
  body: string;
}

describe('malformed input over every route of every service', () => {
  let dataDir: string;
  let platform: RunningPlatform;
  let token: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-fuzz-'));
    platform = await startPlatform(
      parseSettingsTree({ platform: { dataDir, basePort: 0, logLevel: 'silent' } }),
      {
        logger: silentLogger(),
      },
    );
    const basic = Buffer.from('admin:admin-demo').toString('base64');
    const answer = await fetch(
      `${platform.urls['token-service']}/oauth2/access_token?realm=/employees&scope=uid`,
      {
        headers: { authorization: `Basic ${basic}` },
      },
    );
    expect(answer.status).toBe(200);
    token = ((await answer.json()) as { access_token: string }).access_token;
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses unsafe input on OAuth and OCI routes in their own error shapes', async () => {
    const oauth = platform.urls['token-service'];
    const authorize = await fetch(`${oauth}/oauth2/authorize?client_id=%00`, { redirect: 'manual' });
    expect(authorize.status).toBe(400);
    expect(await authorize.json()).toEqual({
      error: 'invalid_request',
      error_description: 'query.client_id contains a NUL character (U+0000)',
    });
    const form = await fetch(`${oauth}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=a%00&password=x',
    });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error: string }).error).toBe('invalid_request');

    const registry = platform.urls.pierone;
    const manifest = await fetch(`${registry}/v2/demo/app/manifests/a%00b`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(manifest.status).toBe(400);
    expect(await manifest.json()).toEqual({
      errors: [
        { code: 'TAG_INVALID', message: 'invalid tag: path.reference contains a NUL character (U+0000)' },
      ],
    });
  });

  it('answers no 5xx, and problem+json for every 4xx outside OAuth and OCI', async () => {
    const requests: FuzzRequest[] = [];
    for (const service of platform.listening) {
      const base = platform.urls[service];
      const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
        paths?: Record<string, Record<string, Operation>>;
      };
      const paths = { ...document.paths };
      if (service === 'pierone') Object.assign(paths, OCI_ROUTES);
      if (service === 'token-service') paths['/oauth2/authorize'] = { get: AUTHORIZE_QUERY };
      for (const [route, operations] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          // The console's proxy routes repeat one handler for every method; two cover it.
          if (service === 'console' && !['get', 'post'].includes(method)) continue;
          requests.push(...malformedRequests(service, method.toUpperCase(), route, operation));
        }
      }
      if (service === 'token-service') {
        for (const route of FORM_ROUTES) requests.push(...malformedOAuthForms(service, route));
      }
    }
    expect(requests.length).toBeGreaterThan(1_000);

    const findings: Finding[] = [];
    const statuses = new Map<number, number>();
    const perService = new Map<string, number>();
    let sent = 0;
    const started = Date.now();
    const queue = shuffled(
      requests.flatMap((request) => [
        { request, token: true },
        { request, token: false },
      ]),
    );
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const now = Date.now();
        if (sent >= MAX_REQUESTS || now - started > SEND_BUDGET_MS || now - fileStarted > FILE_BUDGET_MS)
          return;
        sent += 1;
        const { request } = next;
        perService.set(request.service, (perService.get(request.service) ?? 0) + 1);
        const response = await fetch(
          `${platform.urls[request.service as keyof typeof platform.urls]}${request.url}`,
          {
            method: request.method,
            redirect: 'manual',
            headers: {
              ...(next.token ? { authorization: `Bearer ${token}` } : {}),
              ...(request.contentType ? { 'content-type': request.contentType } : {}),
            },
            ...(request.body && !['GET', 'HEAD'].includes(request.method) ? { body: request.body } : {}),
          },
        );
        const body = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const contentType = response.headers.get('content-type') ?? '';
        const notProblem =
          response.status >= 400 &&
          response.status < 500 &&
          request.method !== 'HEAD' &&
          !speaksProtocol(request.service, request.route) &&
          !contentType.startsWith('application/problem+json');
        if (response.status >= 500 || notProblem) {
          findings.push({
            request,
            token: next.token,
            status: response.status,
            contentType,
            body: body.slice(0, 200),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const fivexx = findings.filter((f) => f.status >= 500);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${sent} of ${requests.length * 2} malformed requests in ${seconds} s, ${fivexx.length} 5xx, ` +
        `${findings.length - fivexx.length} 4xx not problem+json; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `per service ${JSON.stringify(Object.fromEntries(perService))}`,
    );
    for (const f of findings.slice(0, 40)) {
      console.log(
        `  ${f.status} ${f.request.service} ${f.request.method} ${f.request.url.slice(0, 120)} ` +
          `(${f.request.what}, ${f.token ? 'with' : 'without'} token) → ${f.contentType} ${f.body}`,
      );
    }
    expect(sent).toBeGreaterThan(1_000);
    expect(
      findings.map(
        (f) => `${f.status} ${f.request.service} ${f.request.method} ${f.request.route} ${f.request.what}`,
      ),
    ).toEqual([]);
  }, 120_000);
});
