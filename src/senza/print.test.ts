import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { senzaProgram } from './cli/main.js';
import { mockAws, stupsAccount } from './test-support/aws-mocks.js';

const aws = mockAws();
afterAll(() => aws.restore());
beforeEach(() => {
  aws.reset();
  stupsAccount(aws);
});

const TESTDATA = join(import.meta.dirname, 'testdata');

async function print(file: string, args: string[]) {
  const io = await captureIo({ env: { AWS_REGION: 'eu-west-1' } });
  io.cwd = TESTDATA;
  const code = await runCli(senzaProgram({ io }), ['print', file, ...args], io);
  await io.cleanup();
  return { code, out: io.out(), err: io.err() };
}

describe('senza print', () => {
  it('prints the minimal SQS definition', async () => {
    const r = await print('minimal-sqs.yaml', ['1']);
    expect(r.err).toBe('Generating Cloud Formation template.. OK\n');
    console.log(r.out);
  });
  it('prints hello world', async () => {
    const r = await print('hello-world.yaml', ['1', 'hello-world', '0.1', 'mint-bucket']);
    console.log(r.err, r.out);
  });
  it('prints webapp', async () => {
    const r = await print('webapp.yaml', ['1', '0.1']);
    console.log(r.err, r.out);
  });
});
