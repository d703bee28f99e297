import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

interface RawAnswer {
  status: number;
  contentType: string | undefined;
  apiVersion: string | undefined;
  body: string;
}

/** One request with the path exactly as given: no client normalises or re-encodes it. */
function raw(reg: TestRegistry, method: string, path: string, token: string): Promise<RawAnswer> {
  const url = new URL(reg.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            apiVersion: res.headers['docker-distribution-api-version']?.toString(),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** Path, status and OCI code the distribution spec (and Docker's registry) give for it. */
const CASES: ReadonlyArray<[method: string, path: string, status: number, code: string]> = [
  // Invalid percent-encoding, refused before routing, named by the segment it is in.
  ['GET', '/v2/%ff/app/tags/list', 400, 'NAME_INVALID'],
  ['GET', '/v2/stups/%zz/manifests/latest', 400, 'NAME_INVALID'],
  ['GET', '/v2/%', 400, 'NAME_INVALID'],
  ['GET', '/v2/stups/app/manifests/%C0%80', 400, 'TAG_INVALID'],
  ['PUT', '/v2/stups/app/manifests/sha256%3A%zz', 400, 'DIGEST_INVALID'],
  ['GET', '/v2/stups/app/blobs/%ff', 400, 'DIGEST_INVALID'],
  ['PATCH', '/v2/stups/app/blobs/uploads/%e0%80', 404, 'BLOB_UPLOAD_UNKNOWN'],
  // NUL characters in path parameters, refused by the edge guard, named by the parameter.
  ['GET', '/v2/st%00ups/app/manifests/latest', 400, 'NAME_INVALID'],
  ['PUT', '/v2/stups/ap%00p/manifests/latest', 400, 'NAME_INVALID'],
  ['GET', '/v2/stups/app/manifests/lat%00est', 400, 'TAG_INVALID'],
  ['GET', '/v2/stups/app/manifests/sha256:%00', 400, 'DIGEST_INVALID'],
  ['HEAD', '/v2/stups/app/blobs/sha256:%00', 400, 'DIGEST_INVALID'],
  ['GET', `/v2/stups/app/referrers/${DIGEST}%00`, 400, 'DIGEST_INVALID'],
  ['GET', '/v2/stups/app/blobs/uploads/%00', 404, 'BLOB_UPLOAD_UNKNOWN'],
  // Well-formed URLs with wrong values answer as before, in the same shape.
  ['GET', '/v2/stups/app/blobs/sha256:abc', 400, 'DIGEST_INVALID'],
  ['GET', '/v2/St%20ups/app/manifests/latest', 400, 'NAME_INVALID'],
];

describeEachDatabase('malformed /v2 URLs', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
  });
  afterAll(async () => {
    await reg?.close();
  });

  it.each(CASES)('%s %s answers %i %s in the OCI error shape', async (method, path, status, code) => {
    const answer = await raw(reg, method, path, reg.tokens.alice);
    expect(answer.status).toBe(status);
    expect(answer.apiVersion).toBe('registry/2.0');
    if (method === 'HEAD') return; // no body to a HEAD request
    expect(answer.contentType).toMatch(/^application\/json/);
    const body: unknown = JSON.parse(answer.body);
    expect(body).toEqual({ errors: [{ code, message: expect.any(String) }] });
  });

  it('answers an overlong path segment 414 in the OCI shape', async () => {
    const answer = await raw(reg, 'GET', `/v2/stups/app/manifests/${'a'.repeat(600)}`, reg.tokens.alice);
    expect(answer.status).toBe(414);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [{ code: 'TAG_INVALID', message: expect.any(String) }],
    });
  });

  it('keeps problem+json for the STUPS API beside the registry', async () => {
    const answer = await raw(reg, 'GET', '/teams/%ff/artifacts', reg.tokens.alice);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
  });
});
