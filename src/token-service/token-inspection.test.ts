import { describeEachDatabase } from '../platform/test-support/databases.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import {
  basic,
  CLIENT,
  createFixture,
  FORM,
  form,
  passwordToken,
  RESOURCE_SERVER,
  SERVICE_USER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

describeEachDatabase(
  'tokeninfo, introspection and revocation',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    beforeAll(async () => {
      f = await createFixture(getDatabase());
    });
    afterAll(async () => {
      await f?.close();
    });

    const tokeninfo = (token: string) =>
      f.app.inject({ url: `/oauth2/tokeninfo?access_token=${encodeURIComponent(token)}` });
    const introspect = (token: string, client = RESOURCE_SERVER, hint?: string) =>
      f.app.inject({
        method: 'POST',
        url: '/oauth2/introspect',
        headers: { ...FORM, authorization: basic(client.id, client.secret) },
        payload: form({ token, ...(hint ? { token_type_hint: hint } : {}) }),
      });
    const revoke = (token: string, client = CLIENT, hint?: string) =>
      f.app.inject({
        method: 'POST',
        url: '/oauth2/revoke',
        headers: { ...FORM, authorization: basic(client.id, client.secret) },
        payload: form({ token, ...(hint ? { token_type_hint: hint } : {}) }),
      });

    it('answers tokeninfo in exactly the STUPS format, by parameter and by Bearer header', async () => {
      const { access_token } = await passwordToken(f.app, {
        realm: '/services',
        scope: 'uid pets.write application.write',
      });
      f.clock.advance(100);
      const byQuery = await tokeninfo(access_token);
      expect(byQuery.statusCode).toBe(200);
      expect(byQuery.json()).toEqual({
        uid: SERVICE_USER.username,
        realm: '/services',
        scope: ['uid', 'pets.write', 'application.write'],
        expires_in: 3500,
        token_type: 'Bearer',
        grant_type: 'password',
        access_token,
        client_id: CLIENT.id,
        'pets.write': true,
        'application.write': true,
      });
      const byHeader = await f.app.inject({
        url: '/oauth2/tokeninfo',
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(byHeader.json()).toEqual(byQuery.json());

      // The answer is pre-serialised for a hot token; only expires_in moves with the clock.
      f.clock.advance(100);
      const later = await tokeninfo(access_token);
      expect(later.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(later.json()).toEqual({ ...byQuery.json(), expires_in: 3400 });
    });

    it('rejects missing, forged, expired and foreign tokens with OAuth errors', async () => {
      const missing = await f.app.inject('/oauth2/tokeninfo');
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({
        error: 'invalid_request',
        error_description: 'the access token is missing',
      });

      const garbage = await tokeninfo('not-a-token');
      expect(garbage.statusCode).toBe(401);
      expect(garbage.json()).toEqual({
        error: 'invalid_token',
        error_description: 'the access token is not a valid JWT',
      });
      expect(garbage.headers['www-authenticate']).toContain('error="invalid_token"');

      const { access_token } = await passwordToken(f.app);
      const [header, payload] = access_token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${access_token.split('.')[2]}`;
      expect((await tokeninfo(tampered)).json()).toEqual({
        error: 'invalid_token',
        error_description: 'the access token signature is invalid',
      });

      // Same issuer name, but signed by a key the token service never had.
      const impostor = await createTestIssuer(f.ctx.urls['token-service']);
      const forged = await impostor.token({ uid: 'jdoe' });
      expect((await tokeninfo(forged)).json()).toEqual({
        error: 'invalid_token',
        error_description: 'the access token was signed with an unknown key',
      });

      const other = await createTestIssuer('https://other.example.org');
      expect((await tokeninfo(await other.token({ uid: 'jdoe' }))).json()).toEqual({
        error: 'invalid_token',
        error_description: 'tokens of issuer "https://other.example.org" are not accepted',
      });

      f.clock.advance(3600 + 10);
      expect((await tokeninfo(access_token)).json()).toEqual({
        error: 'invalid_token',
        error_description: 'the access token has expired',
      });
      f.clock.advance(-(3600 + 10));

      const both = await f.app.inject({
        url: `/oauth2/tokeninfo?access_token=${access_token}`,
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(both.json().error).toBe('invalid_request');
    });

    it('introspects access and refresh tokens for authenticated confidential clients (RFC 7662)', async () => {
      const issued = await passwordToken(f.app, { scope: 'uid email' });
      const claims = decodeJwt(issued.access_token);
      const active = await introspect(issued.access_token);
      expect(active.statusCode).toBe(200);
      expect(active.json()).toEqual({
        active: true,
        scope: 'uid email',
        client_id: CLIENT.id,
        username: 'jdoe',
        sub: 'jdoe',
        token_type: 'Bearer',
        exp: claims.exp,
        iat: claims.iat,
        iss: f.ctx.urls['token-service'],
        aud: f.ctx.urls['token-service'],
        jti: claims.jti,
        realm: '/employees',
        grant_type: 'password',
      });
      expect((await introspect('garbage')).json()).toEqual({ active: false });
      // Refresh tokens are disclosed only to the client holding them.
      expect((await introspect(issued.refresh_token!, RESOURCE_SERVER, 'refresh_token')).json()).toEqual({
        active: false,
      });
      expect((await introspect(issued.refresh_token!, CLIENT, 'refresh_token')).json()).toMatchObject({
        active: true,
        client_id: CLIENT.id,
        sub: 'jdoe',
        scope: 'uid email',
      });
      const anonymous = await f.app.inject({
        method: 'POST',
        url: '/oauth2/introspect',
        headers: FORM,
        payload: form({ token: 'x' }),
      });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error).toBe('invalid_client');
      const publicClient = await f.app.inject({
        method: 'POST',
        url: '/oauth2/introspect',
        headers: FORM,
        payload: form({ token: issued.access_token, client_id: 'zign' }),
      });
      expect(publicClient.json()).toEqual({
        error: 'invalid_client',
        error_description: 'introspection needs a confidential client',
      });
    });

    it('revokes access tokens: tokeninfo, introspection and every trusting TokenVerifier reject them', async () => {
      const { access_token } = await passwordToken(f.app);
      f.ctx.verifier.trust(f.service.trustedIssuer);
      expect((await f.verifier.verify(access_token)).uid).toBe('jdoe');

      // Another client may not revoke it; the answer does not say so.
      const foreign = await revoke(access_token, RESOURCE_SERVER);
      expect(foreign.statusCode).toBe(200);
      expect((await tokeninfo(access_token)).statusCode).toBe(200);

      const response = await revoke(access_token);
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe('');
      expect((await tokeninfo(access_token)).json()).toEqual({
        error: 'invalid_token',
        error_description: 'the access token was revoked',
      });
      expect((await introspect(access_token)).json()).toEqual({ active: false });
      await expect(f.verifier.verify(access_token)).rejects.toThrow('the access token was revoked');
      expect(await f.service.isRevoked(decodeJwt(access_token).jti!)).toBe(true);
      const events = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.revoke',
        limit: 2,
      });
      expect(events.map((e) => e.outcome)).toEqual(['success', 'failure']);
      // Unknown tokens are answered like success (RFC 7009 §2.2).
      expect((await revoke('unknown-token')).statusCode).toBe(200);
      const missing = await f.app.inject({
        method: 'POST',
        url: '/oauth2/revoke',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({}),
      });
      expect(missing.json()).toEqual({
        error: 'invalid_request',
        error_description: 'parameter "token" is missing',
      });
    });

    it('audits a revocation refused because the client failed to authenticate', async () => {
      const { access_token } = await passwordToken(f.app);
      const refused = await revoke(access_token, { ...CLIENT, secret: 'not-the-secret-0123' });
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: 'invalid_client' });
      const [event] = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.revoke',
        limit: 1,
      });
      expect(event).toMatchObject({
        actor: CLIENT.id,
        outcome: 'refused',
        request_id: refused.headers['x-request-id'],
      });
      expect(JSON.stringify(event?.details)).not.toContain('not-the-secret-0123');
      // Nothing was revoked.
      expect((await tokeninfo(access_token)).statusCode).toBe(200);
    });

    it('revokes a refresh token together with the access tokens issued with it', async () => {
      const issued = await passwordToken(f.app);
      expect((await revoke(issued.refresh_token!)).statusCode).toBe(200);
      expect((await tokeninfo(issued.access_token)).json().error).toBe('invalid_token');
      const refreshed = await f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({ grant_type: 'refresh_token', refresh_token: issued.refresh_token! }),
      });
      expect(refreshed.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'the refresh token is revoked',
      });
    });

    it('never takes an ID token for an access token (typ at+jwt, RFC 9068 §4)', async () => {
      const issued = await passwordToken(f.app, { scope: 'uid openid' });
      const { id_token } = issued as typeof issued & { id_token: string };
      expect((await tokeninfo(id_token)).json()).toEqual({
        error: 'invalid_token',
        error_description: 'the token is not an access token (wrong "typ" header)',
      });
      await expect(f.verifier.verify(id_token)).rejects.toThrow('wrong "typ" header');
    });

    it('finds every token type whatever token_type_hint says (RFC 7009 §2.1, RFC 7662 §2.1)', async () => {
      const issued = await passwordToken(f.app);
      // A wrong hint neither hides an access token from introspection nor a refresh token.
      expect((await introspect(issued.access_token, RESOURCE_SERVER, 'refresh_token')).json()).toMatchObject({
        active: true,
        sub: 'jdoe',
      });
      expect((await introspect(issued.refresh_token!, CLIENT, 'access_token')).json()).toMatchObject({
        active: true,
        sub: 'jdoe',
      });
      expect((await introspect(issued.access_token, RESOURCE_SERVER, 'no_such_type')).json().active).toBe(
        true,
      );

      // Revoking an access token sent with the refresh_token hint revokes it.
      expect((await revoke(issued.access_token, CLIENT, 'refresh_token')).statusCode).toBe(200);
      expect((await introspect(issued.access_token)).json()).toEqual({ active: false });
      await expect(f.verifier.verify(issued.access_token)).rejects.toThrow('the access token was revoked');

      // And a refresh token sent with the access_token hint revokes its family.
      const other = await passwordToken(f.app);
      expect((await revoke(other.refresh_token!, CLIENT, 'access_token')).statusCode).toBe(200);
      expect((await introspect(other.refresh_token!, CLIENT)).json()).toEqual({ active: false });
      await expect(f.verifier.verify(other.access_token)).rejects.toThrow('the access token was revoked');
    });

    it('answers userinfo for employee tokens with openid', async () => {
      const { access_token } = await passwordToken(f.app, { scope: 'openid profile email' });
      const response = await f.app.inject({
        url: '/oauth2/userinfo',
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(response.json()).toEqual({
        sub: 'jdoe',
        preferred_username: 'jdoe',
        name: 'John Doe',
        email: 'jdoe@example.org',
      });
      const plain = await passwordToken(f.app, { scope: 'uid' });
      const denied = await f.app.inject({
        url: '/oauth2/userinfo',
        headers: { authorization: `Bearer ${plain.access_token}` },
      });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error).toBe('insufficient_scope');
    });
  },
);
