import { beforeAll, expect, it } from 'vitest';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { sshKeygen } from '../platform/test-support/ssh-keygen.js';
import { createTestIssuer, type TestIssuer } from '../platform/test-support/test-issuer.js';
import { createUserService, type UserService, userMigrations } from './index.js';

const migrations = [...KERNEL_MIGRATIONS, { component: 'users', migrations: userMigrations }];

describeEachDatabase('user service', migrations, (getDatabase) => {
  let issuer: TestIssuer;
  let app: HttpApp;
  let service: UserService;
  let admin: string;
  let jdoe: string;
  let other: string;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    issuer = await createTestIssuer();
    const ctx = createTestContext(getDatabase(), issuer.verifier, { adminUids: ['admin'] });
    service = createUserService(ctx);
    app = await service.createApp();
    admin = await issuer.token({ uid: 'admin' });
    jdoe = await issuer.token({ uid: 'jdoe' });
    other = await issuer.token({ uid: 'mallory' });
  });

  it('lets administrators create users and nobody else', async () => {
    const body = { name: 'Jane Doe', email: 'jane@example.org', password: 'correct horse' };
    const denied = await app.inject({
      method: 'PUT',
      url: '/employees/jdoe',
      headers: auth(jdoe),
      payload: body,
    });
    expect(denied.statusCode).toBe(403);
    expect(await service.store.getUser('jdoe')).toBeUndefined();

    const created = await app.inject({
      method: 'PUT',
      url: '/employees/jdoe',
      headers: auth(admin),
      payload: body,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      uid: 'jdoe',
      name: 'Jane Doe',
      email: 'jane@example.org',
      disabled: false,
    });
    expect(created.body).not.toContain('password');
    const updated = await app.inject({
      method: 'PUT',
      url: '/employees/jdoe',
      headers: auth(admin),
      payload: { name: 'Jane Q. Doe', email: 'jane@example.org' },
    });
    expect(updated.statusCode).toBe(200);
    expect(await service.store.verifyPassword('jdoe', 'correct horse')).toBe(true);
    expect(await service.store.verifyPassword('jdoe', 'wrong')).toBe(false);
    expect(await service.store.verifyPassword('nobody', 'correct horse')).toBe(false);
  });

  it('rejects bad user input with 400 and writes nothing', async () => {
    for (const [url, payload, pattern] of [
      ['/employees/Bad!', { name: 'x', email: 'x@example.org' }, /uid/],
      ['/employees/newbie', { name: 'x', email: 'not-an-email' }, /email/],
      ['/employees/newbie', { name: 'x', email: 'x@example.org', password: 'short' }, /8 characters/],
      ['/employees/newbie', { name: 'x', email: 'x@example.org', admin: true }, /admin/],
    ] as const) {
      const response = await app.inject({ method: 'PUT', url, headers: auth(admin), payload });
      expect(response.statusCode, url).toBe(400);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
      expect(JSON.stringify(response.json())).toMatch(pattern);
    }
    expect(await service.store.getUser('newbie')).toBeUndefined();
  });

  it('manages SSH keys and serves them authorized_keys-ready without auth', async () => {
    const key = await sshKeygen('ed25519', { comment: 'jdoe@laptop' });
    const added = await app.inject({
      method: 'POST',
      url: '/employees/jdoe/ssh-keys',
      headers: auth(jdoe),
      payload: { public_key: `${key.publicKey}\n` },
    });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ fingerprint: key.fingerprint, public_key: key.publicKey });

    const again = await app.inject({
      method: 'POST',
      url: '/employees/jdoe/ssh-keys',
      headers: auth(jdoe),
      payload: { public_key: key.publicKey },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('SSH_KEY_EXISTS');
    const [conflict] = await createTestContext(getDatabase(), issuer.verifier).auditLog.query({
      service: 'users',
      action: 'users.ssh_key.add',
      limit: 1,
    });
    expect(conflict).toMatchObject({
      actor: 'jdoe',
      outcome: 'refused',
      target_id: 'jdoe',
      request_id: again.headers['x-request-id'],
      details: { status: 409, code: 'SSH_KEY_EXISTS' },
    });

    const text = await app.inject('/employees/jdoe/ssh');
    expect(text.statusCode).toBe(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.body).toBe(`${key.publicKey}\n`);

    const byOther = await app.inject({
      method: 'POST',
      url: '/employees/jdoe/ssh-keys',
      headers: auth(other),
      payload: { public_key: (await sshKeygen()).publicKey },
    });
    expect(byOther.statusCode).toBe(403);

    const removed = await app.inject({
      method: 'DELETE',
      url: `/employees/jdoe/ssh-keys/${encodeURIComponent(key.fingerprint)}`,
      headers: auth(jdoe),
    });
    expect(removed.statusCode).toBe(204);
    expect((await app.inject('/employees/jdoe/ssh')).body).toBe('');
    expect((await app.inject('/employees/ghost/ssh')).statusCode).toBe(404);
  });

  it('refuses private keys, garbage and weak keys', async () => {
    const weak = await sshKeygen('rsa', { bits: 1024 });
    const cases = [
      [weak.publicKey, 'SSH_KEY_WEAK'],
      [weak.privateKey, 'INPUT_INVALID'],
      ['ssh-ed25519 not-base64!!', 'SSH_KEY_INVALID'],
    ] as const;
    for (const [publicKey, code] of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/employees/jdoe/ssh-keys',
        headers: auth(jdoe),
        payload: { public_key: publicKey },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe(code);
      // A pasted private key is called what it is (it spans lines, but that is not the point).
      if (publicKey === weak.privateKey) expect(response.json().detail).toContain('this is a private key');
    }
    expect(await service.store.sshKeys('jdoe')).toEqual([]);
  });

  it('changes passwords: own with the current one, any as administrator', async () => {
    const wrong = await app.inject({
      method: 'PUT',
      url: '/employees/jdoe/password',
      headers: auth(jdoe),
      payload: { current_password: 'nope', password: 'new password 1' },
    });
    expect(wrong.statusCode).toBe(403);
    const own = await app.inject({
      method: 'PUT',
      url: '/employees/jdoe/password',
      headers: auth(jdoe),
      payload: { current_password: 'correct horse', password: 'new password 1' },
    });
    expect(own.statusCode).toBe(204);
    expect(await service.store.verifyPassword('jdoe', 'new password 1')).toBe(true);
    const reset = await app.inject({
      method: 'PUT',
      url: '/employees/jdoe/password',
      headers: auth(admin),
      payload: { password: 'correct horse' },
    });
    expect(reset.statusCode).toBe(204);
    expect(await service.store.verifyPassword('jdoe', 'correct horse')).toBe(true);
  });

  it('audits every mutating call with actor and outcome, without secrets', async () => {
    const ctx = createTestContext(getDatabase(), issuer.verifier);
    const events = await ctx.auditLog.query({ service: 'users', limit: 100 });
    const created = events.find(
      (e) =>
        e.action === 'users.user.put' &&
        e.actor === 'admin' &&
        e.target_id === 'jdoe' &&
        (e.details as { created: boolean }).created,
    );
    expect(created).toMatchObject({ outcome: 'success', request_id: expect.any(String) });
    expect(events.every((e) => e.request_id !== null)).toBe(true);
    expect(
      events.some(
        (e) =>
          e.actor === 'jdoe' &&
          e.outcome === 'refused' &&
          e.details &&
          (e.details as { status: number }).status === 403,
      ),
    ).toBe(true);
    expect(events.some((e) => e.action === 'users.password.change' && e.outcome === 'success')).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/correct horse|new password/);
  });
});
