import { decodeJwt, importJWK, type JWK, SignJWT } from 'jose';
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
  RESOURCE_SERVER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  writtenRows,
  ZIGN_REDIRECT,
} from './test-support.js';

const PETS_API = 'https://pets.example.org/api';
const ORDERS_API = 'https://orders.example.org';

describeEachDatabase(
  'access token audience (RFC 9068 §2.2, RFC 8707)',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    beforeAll(async () => {
      f = await createFixture(getDatabase(), { resourceIndicators: [PETS_API, ORDERS_API] });
    });
    afterAll(async () => {
      await f?.close();
    });

    const issuer = () => f.ctx.urls['token-service'];
    const token = (params: Record<string, string | string[]>, client = CLIENT) => {
      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(params))
        for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
      return f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: { ...FORM, authorization: basic(client.id, client.secret) },
        payload: body.toString(),
      });
    };
    const clientCredentials = (resource?: string | string[]) =>
      token({
        grant_type: 'client_credentials',
        scope: 'uid',
        ...(resource !== undefined ? { resource } : {}),
      });

    it("names this installation's services as audience, which every service's verifier requires", async () => {
      const issued = await passwordToken(f.app);
      expect(decodeJwt(issued.access_token).aud).toBe(issuer());
      expect(f.service.trustedIssuer.audience).toBe(issuer());
      expect((await f.verifier.verify(issued.access_token)).uid).toBe('jdoe');
    });

    it('issues a token for another resource server when it is allowed; the platform services refuse that token', async () => {
      const answer = await clientCredentials(PETS_API);
      expect(answer.statusCode).toBe(200);
      const { access_token } = answer.json();
      expect(decodeJwt(access_token).aud).toBe(PETS_API);
      await expect(f.verifier.verify(access_token)).rejects.toThrow(
        'the access token claim "aud" is invalid',
      );
      // Introspection answers every resource server, with the audience for it to check (RFC 7662 §2.2).
      const introspected = await f.app.inject({
        method: 'POST',
        url: '/oauth2/introspect',
        headers: { ...FORM, authorization: basic(RESOURCE_SERVER.id, RESOURCE_SERVER.secret) },
        payload: form({ token: access_token }),
      });
      expect(introspected.json()).toMatchObject({ active: true, aud: PETS_API });
    });

    it('answers tokeninfo for any audience, userinfo only for the platform audience', async () => {
      const forPets = await token({
        grant_type: 'password',
        username: 'jdoe',
        password: 'jdoe-password-1',
        scope: 'uid openid',
        resource: PETS_API,
      });
      const petsToken = forPets.json().access_token as string;
      const platformToken = (await passwordToken(f.app, { scope: 'uid openid' })).access_token;
      const tokeninfo = (t: string) =>
        f.app.inject({ url: '/oauth2/tokeninfo', headers: { authorization: `Bearer ${t}` } });
      const userinfo = (t: string) =>
        f.app.inject({ url: '/oauth2/userinfo', headers: { authorization: `Bearer ${t}` } });
      // STUPS resource servers ask tokeninfo about every token; it is not a resource of its own.
      expect((await tokeninfo(petsToken)).statusCode).toBe(200);
      expect((await userinfo(platformToken)).json()).toEqual({ sub: 'jdoe' });
      const refused = await userinfo(petsToken);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe('invalid_token');
    });

    it('takes repeated resource parameters as several audiences', async () => {
      const both = await clientCredentials([PETS_API, ORDERS_API]);
      expect(both.statusCode).toBe(200);
      expect(decodeJwt(both.json().access_token).aud).toEqual([PETS_API, ORDERS_API]);
      // Naming the platform audience among them keeps the token valid here too.
      const withPlatform = await clientCredentials([issuer(), PETS_API]);
      expect(decodeJwt(withPlatform.json().access_token).aud).toEqual([issuer(), PETS_API]);
      expect((await f.verifier.verify(withPlatform.json().access_token)).uid).toBe(CLIENT.id);
    });

    it('refuses unknown and malformed resources with invalid_target, issuing nothing and auditing the refusal', async () => {
      const before = await writtenRows(f.db);
      for (const resource of [
        'https://evil.example.org',
        `${PETS_API}#x`,
        'not a uri',
        [PETS_API, 'https://x.test'],
      ]) {
        const answer = await token({
          grant_type: 'password',
          username: 'jdoe',
          password: 'jdoe-password-1',
          resource,
        });
        expect(answer.statusCode).toBe(400);
        expect(answer.json().error).toBe('invalid_target');
      }
      expect(await writtenRows(f.db)).toEqual(before);
      const refused = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.issue',
        limit: 50,
      });
      expect(
        refused.filter((e) => (e.details as { error?: string }).error === 'invalid_target'),
      ).toHaveLength(4);
    });

    it('honours a resource on refresh: the new access token is for it, the grant stays whole', async () => {
      const issued = await passwordToken(f.app);
      const refreshed = await token({
        grant_type: 'refresh_token',
        refresh_token: issued.refresh_token!,
        resource: PETS_API,
      });
      expect(refreshed.statusCode).toBe(200);
      expect(decodeJwt(refreshed.json().access_token).aud).toBe(PETS_API);
      const again = await token({
        grant_type: 'refresh_token',
        refresh_token: refreshed.json().refresh_token,
      });
      expect(decodeJwt(again.json().access_token).aud).toBe(issuer());
    });

    it('keeps the resources of the authorization request with the code; the token request may name only those', async () => {
      const { verifier, challenge } = pkcePair();
      const code = await authorizationCode(f.app, challenge, { resource: PETS_API });
      const redeem = (resource?: string) =>
        f.app.inject({
          method: 'POST',
          url: '/oauth2/access_token',
          headers: FORM,
          payload: form({
            grant_type: 'authorization_code',
            client_id: 'zign',
            code,
            code_verifier: verifier,
            redirect_uri: ZIGN_REDIRECT,
            ...(resource ? { resource } : {}),
          }),
        });
      const outside = await redeem(ORDERS_API);
      expect(outside.statusCode).toBe(400);
      expect(outside.json().error).toBe('invalid_target');
      // The refusal did not spend the code.
      const redeemed = await redeem();
      expect(redeemed.statusCode).toBe(200);
      expect(decodeJwt(redeemed.json().access_token).aud).toBe(PETS_API);
    });

    it('accepts tokens without aud (older tokens) only under the transition setting and only if issued before it', async () => {
      // A token as the token service signed them before aud existed, with its real key.
      const row = await f.db
        .selectFrom('token_signing_keys')
        .selectAll()
        .where('alg', '=', 'ES256')
        .orderBy('created_at', 'desc')
        .executeTakeFirstOrThrow();
      const jwk = JSON.parse(row.private_jwk) as JWK;
      const key = await importJWK(jwk, 'ES256');
      const legacy = (iat: number, aud?: string) =>
        new SignJWT({
          realm: '/employees',
          scope: 'uid',
          client_id: CLIENT.id,
          grant_type: 'password',
          jti: crypto.randomUUID(),
          ...(aud ? { aud } : {}),
        })
          .setProtectedHeader({ alg: 'ES256', kid: row.kid, typ: 'at+jwt' })
          .setIssuer(issuer())
          .setSubject('jdoe')
          .setIssuedAt(iat)
          .setExpirationTime(iat + 3600)
          .sign(key);
      const now = Math.floor(f.clock.now() / 1000);
      const old = await legacy(now - 60);
      await expect(f.verifier.verify(old)).rejects.toThrow('claim "aud" is invalid: missing');

      // The same database, a token service configured for the rolling upgrade.
      const cutoff = now - 30;
      const upgrading = await createFixture(getDatabase(), {
        tokensWithoutAudienceIssuedBefore: new Date(cutoff * 1000).toISOString(),
      });
      try {
        upgrading.clock.advance((f.clock.now() - upgrading.clock.now()) / 1000);
        expect((await upgrading.verifier.verify(old)).uid).toBe('jdoe');
        await expect(upgrading.verifier.verify(await legacy(now))).rejects.toThrow(
          'claim "aud" is invalid: missing',
        );
        await expect(upgrading.verifier.verify(await legacy(now - 60, PETS_API))).rejects.toThrow(
          'claim "aud" is invalid: check_failed',
        );
        // Tokens of today keep working during the transition.
        expect((await upgrading.verifier.verify((await passwordToken(upgrading.app)).access_token)).uid).toBe(
          'jdoe',
        );
      } finally {
        await upgrading.close();
      }
    });
  },
);
