import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { credentialsFromSts } from '../../platform/aws/sts-credentials.js';
import { runCli } from '../../platform/cli/run-cli.js';
import { captureIo } from '../../platform/test-support/cli-io.js';
import { motoClientConfig, motoEnv } from '../../senza/test-support/moto.js';
import { type AwsCall, isReadOnlyCall } from '../aws/clients.js';
import { sevensecondsProgram } from '../cli/main.js';

export interface SevensecondsRun {
  code: number;
  out: string;
  err: string;
  /** Every SDK call the command made, and those of them that change something. */
  calls: AwsCall[];
  changing: AwsCall[];
}

/**
 * Runs the sevenseconds CLI in-process against moto, with `yaml` as `accounts.yaml` in a fresh
 * home, recording every SDK call (what the tests prove "plan changes nothing" with).
 */
export async function runSevenseconds(
  endpoint: string,
  args: string[],
  yaml: string,
  env: Record<string, string> = {},
): Promise<SevensecondsRun> {
  const io = await captureIo({ env: { ...motoEnv(endpoint), ...env } });
  await writeFile(join(io.home, 'accounts.yaml'), yaml);
  const calls: AwsCall[] = [];
  const code = await runCli(sevensecondsProgram({ io, record: (c) => calls.push(c) }), args, io);
  const out = io.out();
  const err = io.err();
  await io.cleanup();
  return { code, out, err, calls, changing: calls.filter((c) => !isReadOnlyCall(c)) };
}

/**
 * SDK client configuration acting in one emulated account (through its
 * OrganizationAccountAccessRole), made independently of the code under test, to check what it did.
 */
export async function motoAccountConfig(endpoint: string, id: string) {
  const sts = new STSClient(motoClientConfig(endpoint));
  const r = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${id}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'verify',
    }),
  );
  const credentials = credentialsFromSts(r.Credentials);
  if (!credentials) throw new Error(`moto answered AssumeRole into ${id} without credentials`);
  return { ...motoClientConfig(endpoint), credentials };
}
