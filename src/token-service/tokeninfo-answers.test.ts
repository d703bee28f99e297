import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../platform/auth/principal.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { REVOCATIONS_CHANNEL } from './revocation-store.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';
import { type AnswerChecks, TokenInfoAnswers } from './tokeninfo-answers.js';

describe('TokenInfoAnswers', () => {
  const principal: Principal = {
    uid: 'jdoe',
    realm: 'employees',
    scopes: new Set(['uid']),
    clientId: 'myapp-client',
    grantType: 'password',
    issuer: 'https://auth.example.org',
    tokenId: 'jti-1',
    expiresAt: new Date(10_000_000),
  };
  const document = { uid: 'jdoe', realm: '/employees', scope: ['uid'] };

  function answersWith(checks: Partial<AnswerChecks>, clock: { t: number }) {
    return new TokenInfoAnswers(
      { peekRevoked: () => false, peekDisabled: () => false, ...checks },
      () => clock.t,
    );
  }

  it('answers a remembered token with expires_in counted at each answer', () => {
    const clock = { t: 9_000_000 };
    const answers = answersWith({}, clock);
    expect(answers.answer('token')).toBeUndefined();
    const first = answers.remember('token', principal, document);
    expect(JSON.parse(first)).toEqual({ ...document, expires_in: 1000 });
    clock.t += 250_500;
    expect(JSON.parse(answers.answer('token')!)).toEqual({ ...document, expires_in: 750 });
    answers.forget('token');
    expect(answers.answer('token')).toBeUndefined();
  });

  it('gives no answer at expiry, nor unless revocation and status are known fresh and clear', () => {
    const clock = { t: 9_000_000 };
    let revoked: boolean | undefined = false;
    let disabled: boolean | undefined = false;
    const answers = answersWith({ peekRevoked: () => revoked, peekDisabled: () => disabled }, clock);
    answers.remember('token', principal, document);
    expect(answers.answer('token')).toBeDefined();
    for (const [r, d] of [
      [undefined, false],
      [true, false],
      [false, undefined],
      [false, true],
    ] as const) {
      revoked = r;
      disabled = d;
      expect(answers.answer('token'), `revoked ${r}, disabled ${d}`).toBeUndefined();
    }
    revoked = false;
    disabled = false;
    expect(answers.answer('token')).toBeDefined();
    clock.t = principal.expiresAt.getTime();
    expect(answers.answer('token')).toBeUndefined();
  });

  it('does not keep the answer of a token that has already expired', () => {
    const clock = { t: principal.expiresAt.getTime() + 1 };
    const answers = answersWith({}, clock);
    expect(JSON.parse(answers.remember('token', principal, document)).expires_in).toBe(0);
    clock.t = 0;
    expect(answers.answer('token')).toBeUndefined();
  });
});

describeEachDatabase('tokeninfo answered from memory', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  // Two replicas of the token service on one database. The revocation snapshot would be read
  // again only after an hour: a refusal below comes from the change feed or from this replica.
  const config = { revocationRefreshSeconds: 3600 };
  let a: TokenServiceFixture;
  let b: TokenServiceFixture;
  beforeAll(async () => {
    a = await createFixture(getDatabase(), config);
    b = await createFixture(getDatabase(), config);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const tokeninfo = (f: TokenServiceFixture, token: string) =>
    f.app.inject({ url: `/oauth2/tokeninfo?access_token=${encodeURIComponent(token)}` });
  const revoke = (f: TokenServiceFixture, token: string) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/revoke',
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ token }),
    });
  /** Resolves once the change feed delivered a revocation to this process's subscribers. */
  const nextRevocation = () =>
    new Promise<void>((resolve) => {
      const stop = getDatabase().changes.subscribe(REVOCATIONS_CHANNEL, () => {
        stop();
        resolve();
      });
    });

  it('answers a hot token the same as a cold one, expires_in counted per answer', async () => {
    const { access_token } = await passwordToken(a.app);
    const cold = await tokeninfo(b, access_token);
    expect(cold.statusCode).toBe(200);
    b.clock.advance(10);
    const hot = await tokeninfo(b, access_token);
    expect(hot.statusCode).toBe(200);
    expect(hot.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    });
    expect(hot.json()).toEqual({ ...cold.json(), expires_in: cold.json().expires_in - 10 });
    // Answers from memory stay visible in /metrics.
    const metrics = await b.ctx.metrics.registry.metrics();
    expect(metrics).toMatch(/cache_lookups_total\{cache="tokeninfo-answers",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/cache_lookups_total\{cache="tokeninfo-answers",result="miss"\} [1-9]/);
  });

  it('refuses a token revoked on another replica on the next request after the change feed', async () => {
    const { access_token } = await passwordToken(a.app);
    for (let i = 0; i < 2; i++) expect((await tokeninfo(b, access_token)).statusCode).toBe(200);
    const delivered = nextRevocation();
    expect((await revoke(a, access_token)).statusCode).toBe(200);
    // This replica at once, the other one as soon as it heard of the commit.
    expect((await tokeninfo(a, access_token)).json()).toEqual({
      error: 'invalid_token',
      error_description: 'the access token was revoked',
    });
    await delivered;
    const refused = await tokeninfo(b, access_token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({
      error: 'invalid_token',
      error_description: 'the access token was revoked',
    });
  });

  it('refuses a remembered token once its refresh token is revoked, its user disabled, or it expired', async () => {
    const family = await passwordToken(a.app);
    expect((await tokeninfo(a, family.access_token)).statusCode).toBe(200);
    expect((await revoke(a, family.refresh_token!)).statusCode).toBe(200);
    expect((await tokeninfo(a, family.access_token)).json()).toEqual({
      error: 'invalid_token',
      error_description: 'the access token was revoked',
    });

    const { access_token } = await passwordToken(a.app);
    expect((await tokeninfo(a, access_token)).statusCode).toBe(200);
    await a.users.putUser(EMPLOYEE.uid, { name: 'John Doe', email: 'jdoe@example.org', disabled: true });
    a.clock.advance(6);
    expect((await tokeninfo(a, access_token)).json()).toEqual({
      error: 'invalid_token',
      error_description: 'the access token belongs to a user who is disabled',
    });
    await a.users.putUser(EMPLOYEE.uid, { name: 'John Doe', email: 'jdoe@example.org', disabled: false });
    a.clock.advance(6);
    expect((await tokeninfo(a, access_token)).statusCode).toBe(200);

    a.clock.advance(3600);
    expect((await tokeninfo(a, access_token)).json()).toEqual({
      error: 'invalid_token',
      error_description: 'the access token has expired',
    });
  });
});
