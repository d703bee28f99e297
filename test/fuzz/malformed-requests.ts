/**
 * Malformed requests for every operation of an OpenAPI document: hostile text (NUL, lone
 * surrogates, invalid UTF-8, bad percent-encoding), out-of-range and wrong-typed values,
 * overlong strings and broken JSON, one defect per request so that a 5xx names its cause.
 */

export interface FuzzRequest {
  service: string;
  method: string;
  /** Path and query, already percent-encoded as they go on the wire (some deliberately wrongly). */
  url: string;
  /** The route as the OpenAPI document names it, for reports. */
  route: string;
  body?: Uint8Array<ArrayBuffer>;
  contentType?: string;
  what: string;
}

interface Parameter {
  in: string;
  name: string;
  schema?: JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  minimum?: number;
  minLength?: number;
  pattern?: string;
}

export interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

/** Wire text of a path segment or query value, each one defect. */
export const BAD_TEXT: Record<string, string> = {
  nul: '%00',
  'nul inside': 'a%00b',
  'lone surrogate (as UTF-8 bytes)': '%ED%A0%80',
  'invalid UTF-8 byte': '%FF',
  'truncated UTF-8 sequence': '%E2%82',
  'overlong UTF-8 encoding': '%C0%AF',
  'bad percent-encoding': '%zz',
  'lone percent sign': '%',
  '26 digits': '1'.repeat(26),
  'negative huge number': '-' + '9'.repeat(30),
  'float beyond double range': '1e999',
  'overlong string': 'a'.repeat(5_000),
  'path traversal': '..%2F..%2Fetc%2Fpasswd',
};

/** Values put into one JSON field at a time; the text is spliced in raw. */
const BAD_JSON_VALUES: Record<string, string> = {
  'NUL in string': '"a\\u0000b"',
  'lone surrogate in string': '"a\\ud800"',
  'lone low surrogate in string': '"\\udc00"',
  'huge integer': '123456789012345678901234567',
  'number beyond double range': '1e400',
  'negative huge integer': '-99999999999999999999',
  'overlong string': JSON.stringify('x'.repeat(100_000)),
  'object for scalar': '{"a":1}',
  'array for scalar': '[1,2]',
  'string for number': '"twelve"',
  null: 'null',
  'boolean as text': '"maybe"',
};

const BAD_BODIES: Record<string, string | Uint8Array<ArrayBuffer>> = {
  'truncated JSON': '{"a":',
  'JSON with trailing garbage': '{} x',
  'empty JSON body': '',
  'JSON array instead of object': '[]',
  'JSON string instead of object': '"text"',
  'deeply nested JSON': `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
  'invalid UTF-8 in JSON': Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  'prototype pollution': '{"__proto__":{"admin":true}}',
  'NUL in a field name': '{"a\\u0000":1}',
};

const MARKER = '"__fuzz_marker__"';

/** A plausible value for a schema: the request must get past everything but the one defect. */
export function sampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 6) return 'fuzz';
  if (schema.enum?.length) return schema.enum[0];
  const choice = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema.allOf?.[0];
  if (choice) return sampleOf(choice, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const entries = Object.entries(schema.properties ?? {}).map(
        ([key, value]) => [key, sampleOf(value, depth + 1)] as const,
      );
      return Object.fromEntries(entries);
    }
    case 'array':
      return [sampleOf(schema.items, depth + 1)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      if (schema.format === 'uri') return 'https://example.org/fuzz';
      if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
      if (schema.format === 'email') return 'fuzz@example.org';
      return 'fuzz'.padEnd(schema.minLength ?? 0, 'z');
  }
}

function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? 'fuzz');
}

/** Every malformed request for one operation of one service. */
export function malformedRequests(
  service: string,
  method: string,
  route: string,
  operation: Operation,
): FuzzRequest[] {
  const requests: FuzzRequest[] = [];
  const pathParams = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query');
  const base = { service, method, route };
  const jsonSchema = operation.requestBody?.content?.['application/json']?.schema;
  const sampleBody =
    jsonSchema !== undefined ? new TextEncoder().encode(JSON.stringify(sampleOf(jsonSchema))) : undefined;
  const withBody = sampleBody ? { body: sampleBody, contentType: 'application/json' } : {};
  const wildcard = (name: string) => name === '*';

  for (const param of pathParams) {
    for (const [what, text] of Object.entries(BAD_TEXT)) {
      // A wildcard takes slashes; give it a path that still ends in the defect.
      const value = wildcard(param) ? `apps/${text}` : text;
      requests.push({
        ...base,
        ...withBody,
        url: fillPath(route, { [param]: value }),
        what: `path ${param}: ${what}`,
      });
    }
  }
  const plain = fillPath(route, { '*': 'apps' });
  const names = [...queryParams.map((p) => p.name), 'unexpected'];
  for (const name of names) {
    for (const [what, text] of Object.entries(BAD_TEXT)) {
      requests.push({
        ...base,
        ...withBody,
        url: `${plain}?${name}=${text}`,
        what: `query ${name}: ${what}`,
      });
    }
    requests.push({
      ...base,
      ...withBody,
      url: `${plain}?${name}=a&${name}=b`,
      what: `query ${name}: repeated`,
    });
    requests.push({
      ...base,
      ...withBody,
      url: `${plain}?${name}[x]=1`,
      what: `query ${name}: bracket syntax`,
    });
  }
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return requests;

  const encode = (text: string) => new TextEncoder().encode(text);
  for (const [what, body] of Object.entries(BAD_BODIES)) {
    requests.push({
      ...base,
      url: plain,
      body: typeof body === 'string' ? encode(body) : body,
      contentType: 'application/json',
      what: `body: ${what}`,
    });
  }
  requests.push({
    ...base,
    url: plain,
    body: encode('a=%00'),
    contentType: 'application/x-www-form-urlencoded',
    what: 'form body with NUL',
  });
  requests.push({
    ...base,
    url: plain,
    body: encode('\u0000'),
    contentType: 'text/plain',
    what: 'text body with NUL',
  });
  const sample = sampleOf(jsonSchema);
  if (sample !== null && typeof sample === 'object' && !Array.isArray(sample)) {
    for (const field of Object.keys(sample)) {
      for (const [what, raw] of Object.entries(BAD_JSON_VALUES)) {
        const text = JSON.stringify({ ...sample, [field]: '__fuzz_marker__' }).replace(MARKER, raw);
        requests.push({
          ...base,
          url: plain,
          body: encode(text),
          contentType: 'application/json',
          what: `body ${field}: ${what}`,
        });
      }
    }
  }
  return requests;
}

/** OAuth form bodies: the token service parses forms itself, outside any OpenAPI body schema. */
export function malformedOAuthForms(service: string, route: string): FuzzRequest[] {
  const fields = [
    'grant_type',
    'client_id',
    'client_secret',
    'username',
    'password',
    'scope',
    'token',
    'code',
    'refresh_token',
    'redirect_uri',
    'device_code',
  ];
  const requests: FuzzRequest[] = [];
  for (const field of fields) {
    for (const [what, text] of Object.entries(BAD_TEXT)) {
      const others = 'grant_type=password&client_id=zign&username=fuzz&password=fuzz&scope=uid';
      requests.push({
        service,
        method: 'POST',
        route,
        url: route,
        body: new TextEncoder().encode(`${others}&${field}=${text}`),
        contentType: 'application/x-www-form-urlencoded',
        what: `form ${field}: ${what}`,
      });
    }
  }
  return requests;
}

/**
 * The requests in a fixed pseudo-random order (seeded), so that a run cut short by its time
 * budget still covers every service and route instead of only the first few.
 */
export function shuffled<T>(items: readonly T[], seed = 12): T[] {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const result = [...items];
  for (let i = result.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}
