import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitMessage } from './git-commit.js';

/** The commit message look-up of `stups trace`'s ticket link, against real git. */
describe('commitMessage', () => {
  let dir: string;
  let revision: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stups-git-commit-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', dir, ...args], {
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'J Doe',
          GIT_AUTHOR_EMAIL: 'j@example.org',
          GIT_COMMITTER_NAME: 'J Doe',
          GIT_COMMITTER_EMAIL: 'j@example.org',
        },
      });
    git('init', '--quiet');
    git('commit', '--quiet', '--allow-empty', '-m', 'SHOP-12 say hello\n\nThe body.');
    revision = git('rev-parse', 'HEAD').trim();
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the message of a commit in a local repository, by path and by file:// URL', async () => {
    expect(await commitMessage(dir, revision)).toBe('SHOP-12 say hello\n\nThe body.');
    expect(await commitMessage(`file://${dir}`, revision.slice(0, 12))).toBe(
      'SHOP-12 say hello\n\nThe body.',
    );
  });

  it('answers undefined for a commit the repository does not have, or a revision that is no hash', async () => {
    expect(await commitMessage(dir, 'f'.repeat(40))).toBeUndefined();
    expect(await commitMessage(dir, 'HEAD; rm -rf /')).toBeUndefined();
  });

  it('gives up on a host that never answers at the deadline, ssh included', async () => {
    // A server that accepts connections and never says a word: ssh waits for its banner.
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
      socket.resume(); // read, so that the peer's end is seen
      closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const message = await commitMessage(`ssh://git@127.0.0.1:${port}/demo/app.git`, revision, {
        timeoutMs: 1_000,
      });
      expect(message).toBeUndefined();
      // ssh's own connect timeout is 5 s: ending well before it means the deadline ended it.
      expect(Date.now() - started).toBeLessThan(4_000);
      // ssh really connected, and was killed with git (its connection closed), not left behind.
      expect(sockets.length).toBe(1);
      await Promise.all(closed);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
