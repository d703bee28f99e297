import { afterEach, expect, it, vi } from 'vitest';
import * as secrets from './secrets.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { TokenServiceConfig } from './config.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  SERVICE_USER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

// Counts scrypt verifications, so "same work for unknown and known clients" is checked by what runs,
// not by wall-clock time (which a loaded CI machine makes meaningless).
vi.mock('./secrets.js', async (importOriginal) => {
  const original = await importOriginal<typeof secrets>();
  return { ...original, verifySecret: vi.fn(original.verifySecret) };
});

const WRONG = { error: 'invalid_grant', error_description: 'wrong user name or password' };
const HOME = '10.1.1.1';
const ELSEWHERE = '10.2.2.2';

/** Issue 12 §6: guessing is throttled per account and per source; a refusal confirms nothing. */
describeEachDatabase('guess throttling', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let fixture: TokenServiceFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });
  const start = async (config: TokenServiceConfig) => {
    fixture = await createFixture(getDatabase(), config);
    return fixture;
  };

  const grant = (
    f: TokenServiceFixture,
    source: string,
    realm: string,
    username: string,
    password: string,
    client = CLIENT,
  ) =>
    f.app.inject({
      method: 'POST',
      url: `/oauth2/access_token?realm=${realm}`,
      remoteAddress: source,
      headers: { ...FORM, authorization: basic(client.id, client.secret) },
      payload: form({ grant_type: 'password', username, password, scope: 'uid' }),
    });

  it('refuses an account from the guessing source only, with the wrong-password answer, then lets it in', async () => {
    const f = await start({ maxFailedLogins: 3, failedLoginWindowSeconds: 120 });
    for (let i = 0; i < 3; i++) {
      expect((await grant(f, HOME, '/employees', EMPLOYEE.uid, 'guess')).json()).toEqual(WRONG);
    }
    const locked = await grant(f, HOME, '/employees', EMPLOYEE.uid, EMPLOYEE.password);
    expect(locked.statusCode).toBe(400);
    expect(locked.json()).toEqual(WRONG);
    // The owner elsewhere is not locked out by someone else's guessing.
    expect((await grant(f, ELSEWHERE, '/employees', EMPLOYEE.uid, EMPLOYEE.password)).statusCode).toBe(200);
    expect((await grant(f, HOME, '/services', SERVICE_USER.username, SERVICE_USER.password)).statusCode).toBe(
      200,
    );
    f.clock.advance(121);
    expect((await grant(f, HOME, '/employees', EMPLOYEE.uid, EMPLOYEE.password)).statusCode).toBe(200);
  });

  it('refuses a source that guesses across accounts, and an account guessed from many sources', async () => {
    const f = await start({ maxFailedLogins: 10, maxFailedLoginsPerSource: 3, maxFailedLoginsPerAccount: 4 });
    for (const name of ['a', 'b', 'c']) await grant(f, HOME, '/employees', name, 'guess');
    expect((await grant(f, HOME, '/employees', EMPLOYEE.uid, EMPLOYEE.password)).json()).toEqual(WRONG);
    expect((await grant(f, ELSEWHERE, '/employees', EMPLOYEE.uid, EMPLOYEE.password)).statusCode).toBe(200);

    for (const source of ['10.3.0.1', '10.3.0.2', '10.3.0.3', '10.3.0.4'])
      await grant(f, source, '/services', SERVICE_USER.username, 'guess');
    expect(
      (await grant(f, '10.3.0.9', '/services', SERVICE_USER.username, SERVICE_USER.password)).json(),
    ).toEqual(WRONG);
  });

  it('answers a locked-out unknown account exactly like a locked-out real one', async () => {
    const f = await start({ maxFailedLogins: 2 });
    for (let i = 0; i < 2; i++) {
      await grant(f, HOME, '/employees', 'nobody', 'guess');
      await grant(f, HOME, '/employees', EMPLOYEE.uid, 'guess');
    }
    const unknown = await grant(f, HOME, '/employees', 'nobody', 'guess');
    const known = await grant(f, HOME, '/employees', EMPLOYEE.uid, EMPLOYEE.password);
    expect([unknown.statusCode, unknown.json()]).toEqual([400, WRONG]);
    expect([known.statusCode, known.json()]).toEqual([400, WRONG]);
  });

  it('shows a locked-out login on the page as a wrong password', async () => {
    const f = await start({ maxFailedLogins: 1 });
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'console',
      redirect_uri: 'https://console.example.org/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's',
    });
    const page = await f.app.inject(`/oauth2/authorize?${query}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (password: string) =>
      f.app.inject({
        method: 'POST',
        url: '/oauth2/authorize',
        remoteAddress: HOME,
        headers: { ...FORM, cookie },
        payload: form({ ...Object.fromEntries(query), csrf_token: csrf, username: EMPLOYEE.uid, password }),
      });
    expect((await post('guess')).body).toContain('Wrong user name or password.');
    const locked = await post(EMPLOYEE.password);
    expect(locked.statusCode).toBe(401);
    expect(locked.body).toContain('Wrong user name or password.');
    expect(locked.body).not.toMatch(/too many/i);
    const [event] = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.login.fail',
      limit: 1,
    });
    expect(event).toMatchObject({ outcome: 'failure', details: { reason: 'too many failed logins' } });
  });

  const clientGrant = (f: TokenServiceFixture, source: string, clientId: string, secret: string) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token',
      remoteAddress: source,
      headers: { ...FORM, authorization: basic(clientId, secret) },
      payload: form({ grant_type: 'client_credentials' }),
    });

  it('answers an unknown client and a wrong secret identically, in text and in work', async () => {
    const f = await start({});
    const unknown = await clientGrant(f, HOME, 'no-such-client', 'some-secret-0123456789');
    const wrong = await clientGrant(f, ELSEWHERE, CLIENT.id, 'some-secret-0123456789');
    expect(unknown.statusCode).toBe(401);
    expect([unknown.statusCode, unknown.json(), unknown.headers['www-authenticate']]).toEqual([
      wrong.statusCode,
      wrong.json(),
      wrong.headers['www-authenticate'],
    ]);
    expect(unknown.json()).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
    // An unknown client costs the same scrypt run as a wrong secret (before: none at all, ~1 ms vs ~50 ms).
    const verifications = async (clientId: string) => {
      vi.mocked(secrets.verifySecret).mockClear();
      await clientGrant(f, '10.9.0.1', clientId, 'secret-0123456789');
      return vi.mocked(secrets.verifySecret).mock.calls.length;
    };
    const [unknownRuns, wrongRuns] = [await verifications('no-such-client'), await verifications(CLIENT.id)];
    expect(wrongRuns).toBeGreaterThan(0);
    expect(unknownRuns).toBe(wrongRuns);
    // The audit trail keeps the real reason.
    const events = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.token.issue',
      limit: 50,
    });
    const reasons = new Set(events.map((e) => (e.details as { reason?: string }).reason));
    expect(reasons).toContain('unknown client');
    expect(reasons).toContain('wrong client secret');
  });

  it('throttles client-secret guessing per client and source', async () => {
    const f = await start({ maxFailedClientAuthentications: 3 });
    for (let i = 0; i < 3; i++)
      expect((await clientGrant(f, HOME, CLIENT.id, `guess-${i}`)).statusCode).toBe(401);
    const refused = await clientGrant(f, HOME, CLIENT.id, CLIENT.secret);
    expect([refused.statusCode, refused.json()]).toEqual([
      401,
      { error: 'invalid_client', error_description: 'client authentication failed' },
    ]);
    expect((await clientGrant(f, ELSEWHERE, CLIENT.id, CLIENT.secret)).statusCode).toBe(200);
  });
});
