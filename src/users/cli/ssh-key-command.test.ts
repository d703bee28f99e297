import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import { type Database, openDatabase } from '../../platform/db/database.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { captureIo } from '../../platform/test-support/cli-io.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { sshKeygen } from '../../platform/test-support/ssh-keygen.js';
import { createTestIssuer } from '../../platform/test-support/test-issuer.js';
import { stupsProgram } from '../../stups/cli/main.js';
import { createUserService, type UserService, userMigrations } from '../index.js';

describe('stups ssh-key against a running user directory', () => {
  let database: Database;
  let service: UserService;
  let app: HttpApp;
  let usersUrl: string;
  let jdoe: string;
  let mallory: string;

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, [
      ...KERNEL_MIGRATIONS,
      { component: 'users', migrations: userMigrations },
    ]);
    const issuer = await createTestIssuer();
    service = createUserService(createTestContext(database, issuer.verifier, { adminUids: ['admin'] }));
    app = await service.createApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    usersUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const admin = await issuer.token({ uid: 'admin' });
    for (const uid of ['jdoe', 'mallory']) {
      const created = await app.inject({
        method: 'PUT',
        url: `/employees/${uid}`,
        headers: { authorization: `Bearer ${admin}` },
        payload: { name: uid, email: `${uid}@example.org`, password: 'correct horse' },
      });
      expect(created.statusCode).toBe(201);
    }
    jdoe = await issuer.token({ uid: 'jdoe' });
    mallory = await issuer.token({ uid: 'mallory' });
  });

  afterAll(async () => {
    await app?.close();
    await database?.destroy();
  });

  async function stups(args: string[], token: string, home?: (dir: string) => Promise<void>) {
    const io = await captureIo({
      env: { STUPS_USERS_URL: usersUrl, OAUTH2_ACCESS_TOKENS: `default=${token}` },
    });
    await home?.(io.home);
    const code = await runCli(stupsProgram(io), args, io);
    await io.cleanup();
    return { code, out: io.out(), err: io.err(), home: io.home };
  }

  it('adds the default key of ~/.ssh for the user of the token, lists it and removes it', async () => {
    const key = await sshKeygen('ed25519', { comment: 'jdoe@laptop' });
    const added = await stups(['ssh-key', 'add'], jdoe, async (home) => {
      await mkdir(join(home, '.ssh'), { recursive: true });
      await writeFile(join(home, '.ssh', 'id_ed25519.pub'), `${key.publicKey}\n`);
    });
    expect(added.err).toBe('');
    expect(added.out).toMatch(
      new RegExp(
        `^Added ${key.fingerprint.replace(/[+/]/g, '\\$&')} for jdoe \\(from .+/\\.ssh/id_ed25519\\.pub\\)\\n$`,
      ),
    );
    expect(added.code).toBe(0);
    expect(await service.store.sshKeys('jdoe')).toEqual([key.publicKey]);

    const list = await stups(['ssh-k', 'li', '-o', 'json'], jdoe);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual([
      {
        fingerprint: key.fingerprint,
        type: 'ssh-ed25519',
        comment: 'jdoe@laptop',
        created: expect.any(String),
      },
    ]);

    // Somebody else's keys: the user directory refuses, in one line.
    const foreign = await stups(['ssh-key', 'remove', key.fingerprint, '--user', 'jdoe'], mallory);
    expect(foreign.code).toBe(1);
    expect(foreign.err).toMatch(/^stups: the user directory answered 403: .+\n$/);
    expect(await service.store.sshKeys('jdoe')).toEqual([key.publicKey]);

    const removed = await stups(['ssh-key', 'rm', key.fingerprint], jdoe);
    expect(removed).toMatchObject({ code: 0, out: `Removed ${key.fingerprint} from jdoe\n`, err: '' });
    expect(await service.store.sshKeys('jdoe')).toEqual([]);
    const again = await stups(['ssh-key', 'remove', key.fingerprint], jdoe);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^stups: the user directory answered 404: .+\n$/);
  });

  it('refuses a private key before sending it, and says how to make a key when there is none', async () => {
    const key = await sshKeygen('ed25519');
    const leaked = await stups(['ssh-key', 'add', 'id_ed25519'], jdoe, async (home) => {
      await writeFile(join(home, 'id_ed25519'), key.privateKey);
    });
    // The file name is relative to the working directory (captureIo's is HOME).
    expect(leaked.code).toBe(2);
    expect(leaked.err).toBe(
      `stups: ${join(leaked.home, 'id_ed25519')} holds a private key: register the public key (.pub) only\n`,
    );
    expect(await service.store.sshKeys('jdoe')).toEqual([]);

    const none = await stups(['ssh-key', 'add'], jdoe);
    expect(none.code).toBe(1);
    expect(none.err).toBe(
      'stups: no public key in ~/.ssh (id_ed25519.pub, id_ecdsa.pub, id_rsa.pub): create one with "ssh-keygen -t ed25519" or name the file\n',
    );
  });
});
