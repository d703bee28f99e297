import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  basic,
  FORM,
  form,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  createFixture,
  type TokenServiceFixture,
} from './test-support.js';

/**
 * Issue 16: mint rotates a service user's password and a client's secret with an overlap, so that
 * consumers that have not re-read `user.json`/`client.json` yet keep getting tokens. Checked through
 * the token endpoint, as consumers see it.
 */
describeEachDatabase('credential overlap', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  const CLIENT_ID = 'overlap-client';
  const USER = 'stups_overlap';
  const secrets = ['secret-generation-1-xxxx', 'secret-generation-2-xxxx', 'secret-generation-3-xxxx'];
  const passwords = ['password-generation-1', 'password-generation-2', 'password-generation-3'];

  beforeAll(async () => {
    f = await createFixture(getDatabase());
    await f.service.upsertClient({
      clientId: CLIENT_ID,
      type: 'confidential',
      secret: secrets[0],
      realms: ['services'],
      grantTypes: ['password'],
      scopes: null,
    });
    await f.service.upsertServiceUser({ username: USER, password: passwords[0], scopes: [] });
  });
  afterAll(async () => {
    await f?.close();
  });

  const grant = (clientSecret: string, password: string, username = USER, clientId = CLIENT_ID) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token?realm=/services',
      headers: { ...FORM, authorization: basic(clientId, clientSecret) },
      payload: form({ grant_type: 'password', username, password, scope: 'uid' }),
    });
  const status = async (clientSecret: string, password: string) =>
    (await grant(clientSecret, password)).statusCode;
  /** The parts of a refusal a client sees; must not tell one reason from another. */
  const refusal = async (response: Awaited<ReturnType<typeof grant>>) => ({
    status: response.statusCode,
    body: response.json<Record<string, unknown>>(),
    authenticate: response.headers['www-authenticate'],
  });

  it('accepts the old and the new password inside the window and refuses the old one after it', async () => {
    const [p1, p2] = [passwords[0]!, passwords[1]!];
    await f.service.rotateServiceUserPassword(USER, p2, null);
    expect(await status(secrets[0]!, p1)).toBe(200);
    expect(await status(secrets[0]!, p2)).toBe(200);

    // Retiring with a grace keeps the old one until then, not a moment longer.
    await f.service.retirePreviousServiceUserPassword(USER, new Date(f.clock.now() + 60_000));
    f.clock.advance(59);
    expect(await status(secrets[0]!, p1)).toBe(200);
    f.clock.advance(2);
    const old = await grant(secrets[0]!, p1);
    const wrong = await grant(secrets[0]!, 'not-the-password-at-all');
    const unknown = await grant(secrets[0]!, p1, 'stups_nobody');
    expect(await refusal(old)).toEqual(await refusal(wrong));
    expect(await refusal(old)).toEqual(await refusal(unknown));
    expect(old.statusCode).toBe(400);
    expect(await status(secrets[0]!, p2)).toBe(200);
  });

  it('keeps the generation consumers hold when an unfinished rotation is repeated', async () => {
    const [p2, p3] = [passwords[1]!, passwords[2]!];
    // p2 is current, no previous. Rotation to a password that never reaches consumers …
    await f.service.rotateServiceUserPassword(USER, 'never-distributed-password', null);
    // … repeated: the previous generation (p2) stays, only the current one is replaced.
    await f.service.rotateServiceUserPassword(USER, p3, null);
    expect(await status(secrets[0]!, p2)).toBe(200);
    expect(await status(secrets[0]!, p3)).toBe(200);
    expect(await status(secrets[0]!, 'never-distributed-password')).toBe(400);
    await f.service.retirePreviousServiceUserPassword(USER, new Date(f.clock.now()));
    expect(await status(secrets[0]!, p2)).toBe(400);
    expect(await status(secrets[0]!, p3)).toBe(200);
  });

  it('a password set by hand ends every previous generation', async () => {
    await f.service.rotateServiceUserPassword(USER, passwords[0]!, null);
    expect(await status(secrets[0]!, passwords[2]!)).toBe(200);
    await f.service.upsertServiceUser({ username: USER, password: passwords[1]!, scopes: [] });
    expect(await status(secrets[0]!, passwords[0]!)).toBe(400);
    expect(await status(secrets[0]!, passwords[2]!)).toBe(400);
    expect(await status(secrets[0]!, passwords[1]!)).toBe(200);
  });

  it('overlaps client secrets the same way, and the verified-secret cache keeps no retired secret alive', async () => {
    const [s1, s2] = [secrets[0]!, secrets[1]!];
    const password = passwords[1]!;
    expect(await status(s1, password)).toBe(200); // s1 now sits in the cache
    await f.service.rotateClientSecret(CLIENT_ID, s2, null);
    expect(await status(s1, password)).toBe(200);
    expect(await status(s2, password)).toBe(200);
    expect(await status(s1, password)).toBe(200); // cached as the previous generation

    await f.service.retirePreviousClientSecret(CLIENT_ID, new Date(f.clock.now() + 30_000));
    expect(await status(s1, password)).toBe(200);
    f.clock.advance(31);
    const old = await grant(s1, password);
    const wrong = await grant('wrong-secret-0123456789', password);
    const unknown = await grant(s1, password, USER, 'no-such-client');
    expect(old.statusCode).toBe(401);
    expect(await refusal(old)).toEqual(await refusal(wrong));
    expect(await refusal(old)).toEqual(await refusal(unknown));
    expect(await status(s2, password)).toBe(200);
  });

  it('audits rotations and retirements without the secrets', async () => {
    const events = await f.ctx.auditLog.query({ service: 'token-service', limit: 200 });
    const actions = events.map((e) => e.action);
    expect(actions).toContain('token-service.service_user.rotate');
    expect(actions).toContain('token-service.service_user.retire_previous');
    expect(actions).toContain('token-service.client.rotate');
    expect(actions).toContain('token-service.client.retire_previous');
    const text = JSON.stringify(events);
    for (const secret of [...secrets, ...passwords, 'never-distributed-password'])
      expect(text).not.toContain(secret);
  });

  it('refuses to rotate what does not exist or has no secret', async () => {
    await expect(
      f.service.rotateServiceUserPassword('stups_nobody', 'long-enough-password', null),
    ).rejects.toThrow(/does not exist/);
    await expect(f.service.rotateClientSecret('zign', 'long-enough-secret-123', null)).rejects.toThrow(
      /public/,
    );
    await expect(f.service.rotateClientSecret(CLIENT_ID, 'short', null)).rejects.toThrow(/16 characters/);
  });
});
