import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { digest } from './secrets.js';
import { SESSION_COOKIE } from './sign-in-session.js';
import {
  CLIENT,
  createFixture,
  FORM,
  form,
  passwordToken,
  pkcePair,
  redeemZignCode,
  EMPLOYEE,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  ZIGN_REDIRECT,
  basic,
} from './test-support.js';

/** Sign-out revokes what the sign-in session issued; tokens issued without a session stay valid. */
describeEachDatabase(
  'sign-out revokes the session’s tokens',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    beforeAll(async () => {
      f = await createFixture(getDatabase());
    });
    afterAll(async () => {
      await f?.close();
    });

    const codeRequest = () => {
      const { verifier, challenge } = pkcePair();
      const params = {
        response_type: 'code',
        client_id: 'zign',
        redirect_uri: ZIGN_REDIRECT,
        scope: 'uid openid',
        state: 'st',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      return { verifier, params };
    };
    const codeOf = (response: { headers: Record<string, unknown> }) =>
      new URL(String(response.headers.location)).searchParams.get('code');

    /**
     * Signs in through the login page (again, with `prompt=login`, when the browser already has
     * session `previous`); the new session id and the code the sign-in issued.
     */
    async function signIn(previous?: string): Promise<{ id: string; code: string; verifier: string }> {
      const { verifier, params } = codeRequest();
      const sessionCookie = previous ? `${SESSION_COOKIE}=${previous}` : undefined;
      const page = await f.app.inject({
        url: `/oauth2/authorize?${form(previous ? { ...params, prompt: 'login' } : params)}`,
        headers: sessionCookie ? { cookie: sessionCookie } : {},
      });
      expect(page.statusCode).toBe(200);
      const csrfCookie = String(page.headers['set-cookie']).split(';')[0]!;
      const fields = Object.fromEntries(
        [...page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
          m[1]!,
          m[2]!.replace(/&amp;/g, '&'),
        ]),
      );
      const response = await f.app.inject({
        method: 'POST',
        url: '/oauth2/authorize',
        headers: { ...FORM, cookie: sessionCookie ? `${csrfCookie}; ${sessionCookie}` : csrfCookie },
        payload: form({ ...fields, username: EMPLOYEE.uid, password: EMPLOYEE.password }),
      });
      expect(response.statusCode).toBe(303);
      const cookies = [response.headers['set-cookie']].flat().map(String);
      const id = cookies.map((c) => /^stups_session=([^;]+)/.exec(c)?.[1]).find(Boolean);
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      return { id: id!, code: codeOf(response)!, verifier };
    }

    /** A code issued by the session alone (single sign-on, no password). */
    async function codeFromSession(id: string): Promise<{ code: string; verifier: string }> {
      const { verifier, params } = codeRequest();
      const response = await f.app.inject({
        url: `/oauth2/authorize?${form(params)}`,
        headers: { cookie: `${SESSION_COOKIE}=${id}` },
      });
      expect(response.statusCode).toBe(303);
      return { code: codeOf(response)!, verifier };
    }

    async function redeem(code: string, verifier: string) {
      const response = await redeemZignCode(f.app, code, verifier);
      expect(response.statusCode).toBe(200);
      return response.json<{ access_token: string; refresh_token: string; id_token: string }>();
    }

    const refreshZign = (token: string) =>
      f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: FORM,
        payload: form({ grant_type: 'refresh_token', refresh_token: token, client_id: 'zign' }),
      });

    const signOut = (id: string, idToken: string) =>
      f.app.inject({
        url: `/oauth2/logout?${form({ id_token_hint: idToken })}`,
        headers: { cookie: `${SESSION_COOKIE}=${id}` },
      });

    const revokedFamilies = async () =>
      (
        await f.ctx.auditLog.query({
          service: 'token-service',
          action: 'token-service.token_family.revoke',
          limit: 500,
        })
      )
        .filter((e) => (e.details as { reason?: string } | null)?.reason === 'signed out')
        .map((e) => e.target_id);

    const refreshRows = async () =>
      Number(
        (
          await f.db
            .selectFrom('token_refresh_tokens')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('links codes and families to the session by its id’s digest, never the id', async () => {
      const { id, code, verifier } = await signIn();
      const tokens = await redeem(code, verifier);
      const codeRow = await f.db
        .selectFrom('token_authorization_codes')
        .select('session_id_hash')
        .where('code_hash', '=', digest(code))
        .executeTakeFirstOrThrow();
      expect(codeRow.session_id_hash).toBe(digest(id));
      const refreshRow = await f.db
        .selectFrom('token_refresh_tokens')
        .select('session_id_hash')
        .where('token_hash', '=', digest(tokens.refresh_token))
        .executeTakeFirstOrThrow();
      expect(refreshRow.session_id_hash).toBe(digest(id));
      // Rotation keeps the link.
      const rotated = await refreshZign(tokens.refresh_token);
      expect(rotated.statusCode).toBe(200);
      const next = await f.db
        .selectFrom('token_refresh_tokens')
        .select('session_id_hash')
        .where('token_hash', '=', digest(rotated.json().refresh_token))
        .executeTakeFirstOrThrow();
      expect(next.session_id_hash).toBe(digest(id));
    });

    it('sign-out refuses the refresh tokens the session issued, audited; a password grant’s stays valid', async () => {
      const { id, code, verifier } = await signIn();
      const first = await redeem(code, verifier);
      // Redeem → refresh works while signed in (and rotates).
      const rotated = await refreshZign(first.refresh_token);
      expect(rotated.statusCode).toBe(200);
      const live = rotated.json().refresh_token as string;
      // A second client signed in through the same session (single sign-on): another family.
      const sso = await codeFromSession(id);
      const second = await redeem(sso.code, sso.verifier);
      // Issued without a session: a password grant.
      const password = await passwordToken(f.app, { client: CLIENT });
      expect(password.refresh_token).toBeDefined();

      const before = await revokedFamilies();
      const response = await signOut(id, first.id_token);
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('You are signed out');

      for (const token of [live, second.refresh_token]) {
        const refused = await refreshZign(token);
        expect(refused.statusCode).toBe(400);
        expect(refused.json().error).toBe('invalid_grant');
      }
      // The access tokens issued with them are withdrawn too.
      for (const token of [rotated.json().access_token as string, second.access_token]) {
        const jti = decodeJwt(token).jti!;
        expect(
          await f.db.selectFrom('token_revocations').select('jti').where('jti', '=', jti).execute(),
        ).toHaveLength(1);
      }
      // One audit event per family, naming the family, by the user who signed out.
      const families = (await revokedFamilies()).filter((t) => !before.includes(t));
      const familyIds = await f.db
        .selectFrom('token_refresh_tokens')
        .select('family_id')
        .where('session_id_hash', '=', digest(id))
        .distinct()
        .execute();
      expect(families.sort()).toEqual(familyIds.map((r) => r.family_id).sort());
      expect(families).toHaveLength(2);
      const [ended] = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.session.end',
        limit: 1,
      });
      expect(ended!.details).toMatchObject({ revoked_families: 2 });
      expect(JSON.stringify(ended)).not.toContain(id);

      // The password grant's refresh token is untouched.
      const untouched = await f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({ grant_type: 'refresh_token', refresh_token: password.refresh_token! }),
      });
      expect(untouched.statusCode).toBe(200);
    });

    it('a refresh or code redemption after sign-out creates nothing', async () => {
      const { id, code, verifier } = await signIn();
      const tokens = await redeem(code, verifier);
      // A code the session issued but the client has not redeemed yet.
      const pending = await codeFromSession(id);
      expect((await signOut(id, tokens.id_token)).statusCode).toBe(200);
      const rows = await refreshRows();
      const refused = await refreshZign(tokens.refresh_token);
      expect(refused.json().error).toBe('invalid_grant');
      const late = await redeemZignCode(f.app, pending.code, pending.verifier);
      expect(late.statusCode).toBe(400);
      expect(late.json().error).toBe('invalid_grant');
      expect(await refreshRows()).toBe(rows);
      const alive = await f.db
        .selectFrom('token_refresh_tokens')
        .select('token_hash')
        .where('session_id_hash', '=', digest(id))
        .where('revoked_at', 'is', null)
        .execute();
      expect(alive).toEqual([]);
    });

    it('signing in again carries the old session’s tokens over: signing out then revokes them too', async () => {
      const first = await signIn();
      const tokens = await redeem(first.code, first.verifier);
      const again = await signIn(first.id);
      expect(again.id).not.toBe(first.id);
      const idToken = (await redeem(again.code, again.verifier)).id_token;
      expect((await signOut(again.id, idToken)).statusCode).toBe(200);
      const refused = await refreshZign(tokens.refresh_token);
      expect(refused.json().error).toBe('invalid_grant');
    });

    it('a refresh racing the sign-out leaves no live token of the session', async () => {
      // On PostgreSQL the two run concurrently on separate connections; whichever order they take,
      // every token of the session ends revoked (PGlite serialises them, which must hold as well).
      for (let round = 0; round < 5; round++) {
        const { id, code, verifier } = await signIn();
        const tokens = await redeem(code, verifier);
        const [refreshed, signedOut] = await Promise.all([
          refreshZign(tokens.refresh_token),
          signOut(id, tokens.id_token),
        ]);
        expect(signedOut.statusCode).toBe(200);
        expect([200, 400]).toContain(refreshed.statusCode);
        const alive = await f.db
          .selectFrom('token_refresh_tokens')
          .select('token_hash')
          .where('session_id_hash', '=', digest(id))
          .where('revoked_at', 'is', null)
          .execute();
        expect(alive).toEqual([]);
        if (refreshed.statusCode === 200) {
          const again = await refreshZign(refreshed.json().refresh_token);
          expect(again.json().error).toBe('invalid_grant');
        }
      }
    });
  },
);
