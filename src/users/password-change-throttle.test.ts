import { beforeAll, expect, it } from 'vitest';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { createTestIssuer } from '../platform/test-support/test-issuer.js';
import { createUserService, type UserService, userMigrations } from './index.js';

const migrations = [...KERNEL_MIGRATIONS, { component: 'users', migrations: userMigrations }];

/** Issue 12 §6: a stolen token must not become a way to guess its owner's password. */
describeEachDatabase('password change throttling', migrations, (getDatabase) => {
  let app: HttpApp;
  let service: UserService;
  let token: string;

  beforeAll(async () => {
    const issuer = await createTestIssuer();
    service = createUserService(createTestContext(getDatabase(), issuer.verifier));
    app = await service.createApp();
    await service.store.putUser('jdoe', { name: 'J', email: 'j@example.org', password: 'correct horse' });
    token = await issuer.token({ uid: 'jdoe' });
  });

  const change = (current: string, source: string) =>
    app.inject({
      method: 'PUT',
      url: '/employees/jdoe/password',
      remoteAddress: source,
      headers: { authorization: `Bearer ${token}` },
      payload: { current_password: current, password: 'new password 1' },
    });

  it('refuses further guesses of current_password from a source, answered like a wrong password', async () => {
    for (let i = 0; i < 5; i++) expect((await change(`guess-${i}`, '10.1.1.1')).statusCode).toBe(403);
    const refused = await change('correct horse', '10.1.1.1');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'PASSWORD_WRONG', detail: 'the current password is wrong' });
    expect(await service.store.verifyPassword('jdoe', 'correct horse')).toBe(true);
    // The owner at another address is not locked out.
    expect((await change('correct horse', '10.2.2.2')).statusCode).toBe(204);
  });
});
