import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  createFixture,
  FORM,
  form,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

const CLIENT_ID = 'form-client';
const SECRET = 'a secret+with/plus= and%percent 0123456789';

const basicOf = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

/** Issue 14 §9: client_secret_basic values are form-urlencoded (RFC 6749 §2.3.1). */
describeEachDatabase('client_secret_basic decoding', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
    await f.service.upsertClient({
      clientId: CLIENT_ID,
      type: 'confidential',
      secret: SECRET,
      realms: ['services'],
      grantTypes: ['client_credentials'],
      scopes: [],
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  const grant = (authorization: string) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token',
      headers: { ...FORM, authorization },
      payload: form({ grant_type: 'client_credentials' }),
    });

  it('decodes form-urlencoded secrets with spaces, + and %', async () => {
    expect(formEncode(SECRET)).toContain('+');
    const encoded = await grant(basicOf(formEncode(CLIENT_ID), formEncode(SECRET)));
    expect(encoded.statusCode, encoded.body).toBe(200);
  });

  it('still accepts STUPS clients that send the secret literally', async () => {
    await f.service.upsertClient({
      clientId: 'literal',
      type: 'confidential',
      secret: 'base64+ish/secret==0123',
      realms: ['services'],
      grantTypes: ['client_credentials'],
      scopes: [],
    });
    expect((await grant(basicOf('literal', 'base64+ish/secret==0123'))).statusCode).toBe(200);
    expect((await grant(basicOf('literal', 'base64 ish/secret==0123'))).statusCode).toBe(401);
  });
});
