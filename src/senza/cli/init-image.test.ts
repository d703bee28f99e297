import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CliIo } from '../../platform/cli/run-cli.js';
import { freePorts } from '../../stups/free-ports.js';
import { proposeImage } from './init-image.js';

/*
 * The fallbacks of `senza init`'s image proposal. The proposal from a real Kio and Pier One
 * (team from Kio, latest tag from Pier One) is covered end to end by test/e2e/walkthrough.test.ts.
 */

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'senza-init-image-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function io(env: NodeJS.ProcessEnv): CliIo {
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env, cwd: home };
}

it('keeps the default and says why when no Pier One is configured', async () => {
  expect(await proposeImage(io({ HOME: home }), 'hello-world', 'stups/hello-world')).toEqual({
    image: 'stups/hello-world',
    note: 'Note: proposing stups/hello-world: no Pier One configured ("stups configure URL" sets it)',
  });
});

it('keeps the default and says why when the platform does not answer, without asking for a password', async () => {
  const [closed] = await freePorts(1);
  const url = `http://127.0.0.1:${closed}`;
  const proposed = await proposeImage(
    io({ HOME: home, PIERONE_URL: url, KIO_URL: url, ZIGN_URL: url, ZIGN_USER: 'jdoe' }),
    'hello-world',
    'stups/hello-world',
  );
  expect(proposed.image).toBe('stups/hello-world');
  expect(proposed.note).toMatch(/^Note: proposing stups\/hello-world: .*ECONNREFUSED/);
});
