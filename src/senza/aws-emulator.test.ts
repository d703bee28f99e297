import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { stupsProgram } from '../stups/cli/main.js';

/*
 * `stups aws-emulator`'s refusals. The emulator itself (moto_server seeded as a STUPS account,
 * and Senza creating a stack in it) runs in test/e2e/walkthrough.test.ts.
 */

async function stups(args: string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io = { stdout, stderr, stdin: new PassThrough(), env, cwd: process.cwd() };
  const code = await runCli(stupsProgram(io), args, io);
  return { code, out, err };
}

it('says in one line how to install moto_server when it is not on PATH', async () => {
  const r = await stups(['aws-emulator', '--port', '5999'], { PATH: '/nonexistent' });
  expect(r.code).toBe(1);
  expect(r.err).toBe(
    "stups: moto_server is not installed: pip install 'moto[server]' (the AWS emulator this command runs)\n",
  );
  expect(r.out).toBe('');
});

it('refuses a bad port, domain or alias as usage errors', async () => {
  for (const [args, message] of [
    [['--port', '70000'], '--port must be a port number (got "70000")'],
    [['--domain', 'not a domain'], '--domain must be a DNS domain like example.org (got "not a domain")'],
    [
      ['--account-alias', 'My_Alias'],
      '--account-alias must be lower-case letters, digits and dashes (got "My_Alias")',
    ],
  ] as const) {
    const r = await stups(['aws-emulator', ...args], { PATH: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.err).toBe(`stups: ${message}\n`);
  }
});
