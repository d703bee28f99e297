import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  authorizationCode,
  basic,
  CLIENT,
  createFixture,
  FORM,
  form,
  passwordToken,
  pkcePair,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  redeemZignCode,
} from './test-support.js';

const TRIALS = 10;

/*
 * Issue 14 §1: the same refresh token or code presented twice at the same moment. Exactly one
 * request may win, and the other's reuse must withdraw everything issued from the grant,
 * the winner's new tokens included.
 */
describeEachDatabase('concurrent redemption', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await f?.close();
  });

  const refresh = (token: string) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token',
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ grant_type: 'refresh_token', refresh_token: token }),
    });

  const exchange = (code: string, verifier: string) => redeemZignCode(f.app, code, verifier);

  it('revokes the winner’s new tokens when a refresh token is used twice at once', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const issued = await passwordToken(f.app);
      const answers = await Promise.all([refresh(issued.refresh_token!), refresh(issued.refresh_token!)]);
      const won = answers.filter((a) => a.statusCode === 200);
      const lost = answers.filter((a) => a.statusCode !== 200);
      expect(won).toHaveLength(1);
      expect(lost.map((a) => a.json())).toEqual([
        {
          error: 'invalid_grant',
          error_description: 'the refresh token was already used; its grant is revoked',
        },
      ]);
      const winner = won[0]!.json<{ access_token: string; refresh_token: string }>();
      await expect(f.verifier.verify(winner.access_token), `trial ${trial}`).rejects.toThrow(
        'the access token was revoked',
      );
      await expect(f.verifier.verify(issued.access_token)).rejects.toThrow('the access token was revoked');
      const next = await refresh(winner.refresh_token);
      expect(next.json(), `trial ${trial}`).toEqual({
        error: 'invalid_grant',
        error_description: 'the refresh token is revoked',
      });
    }
  });

  it('revokes what a code gave when it is redeemed twice at once', async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const { verifier, challenge } = pkcePair();
      const code = await authorizationCode(f.app, challenge);
      const answers = await Promise.all([exchange(code, verifier), exchange(code, verifier)]);
      const won = answers.filter((a) => a.statusCode === 200);
      const lost = answers.filter((a) => a.statusCode !== 200);
      expect(won).toHaveLength(1);
      expect(lost.map((a) => a.json())).toEqual([
        { error: 'invalid_grant', error_description: 'the authorization code was already used' },
      ]);
      const winner = won[0]!.json<{ access_token: string; refresh_token: string }>();
      await expect(f.verifier.verify(winner.access_token), `trial ${trial}`).rejects.toThrow(
        'the access token was revoked',
      );
      expect((await refresh(winner.refresh_token)).json().error, `trial ${trial}`).toBe('invalid_grant');
    }
  });
});
