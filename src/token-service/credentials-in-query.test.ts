import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  RESOURCE_SERVER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

/** Issue 14 §2: RFC 6749 §2.3.1 forbids credentials in the URL; they must not reach the log either. */
describeEachDatabase('credentials in the URL query', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  let written = '';
  beforeAll(async () => {
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => (written += chunk.toString()));
    f = await createFixture(
      getDatabase(),
      {},
      { logger: createLogger({ level: 'trace', destination: sink }) },
    );
  });
  afterAll(async () => {
    await f?.close();
  });

  const refused = (name: string) => ({
    error: 'invalid_request',
    error_description: `parameter "${name}" must not be sent in the URL query`,
  });

  it('refuses client_secret and password in the query of every credential endpoint, and logs neither', async () => {
    const secretQuery = `client_id=${CLIENT.id}&client_secret=QUERY-CLIENT-SECRET`;
    const token = await f.app.inject({
      method: 'POST',
      url: `/oauth2/access_token?${secretQuery}`,
      headers: FORM,
      payload: form({ grant_type: 'client_credentials' }),
    });
    expect(token.statusCode).toBe(400);
    expect(token.json()).toEqual(refused('client_secret'));

    const password = await f.app.inject({
      method: 'POST',
      url: `/oauth2/access_token?realm=/employees&username=${EMPLOYEE.uid}&password=QUERY-PASSWORD`,
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ grant_type: 'password' }),
    });
    expect(password.json()).toEqual(refused('password'));

    const legacy = await f.app.inject({
      url: '/oauth2/access_token?password=QUERY-PASSWORD',
      headers: { authorization: basic(EMPLOYEE.uid, EMPLOYEE.password) },
    });
    expect(legacy.statusCode).toBe(400);
    expect(legacy.json()).toEqual(refused('password'));

    for (const path of ['/oauth2/introspect', '/oauth2/revoke', '/oauth2/device_authorization']) {
      const answer = await f.app.inject({
        method: 'POST',
        url: `${path}?client_id=${RESOURCE_SERVER.id}&client_secret=QUERY-CLIENT-SECRET`,
        headers: FORM,
        payload: form({ token: 'x' }),
      });
      expect(answer.statusCode, path).toBe(400);
      expect(answer.json(), path).toEqual(refused('client_secret'));
    }

    // The same parameters in the body still work.
    const inBody = await f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token?realm=/employees',
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password }),
    });
    expect(inBody.statusCode).toBe(200);

    expect(written).toContain('/oauth2/access_token');
    expect(written).not.toMatch(/QUERY-(CLIENT-SECRET|PASSWORD)/);
    const events = await f.ctx.auditLog.query({ service: 'token-service', limit: 100 });
    expect(JSON.stringify(events)).not.toMatch(/QUERY-(CLIENT-SECRET|PASSWORD)/);
  });
});
