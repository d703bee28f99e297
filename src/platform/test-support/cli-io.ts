import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../cli/run-cli.js';

/** Captured standard streams and a private HOME for running a CLI in-process. */
export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
  home: string;
  cleanup(): Promise<void>;
}

export async function captureIo(
  options: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<CapturedIo> {
  const home = await mkdtemp(join(tmpdir(), 'stups-home-'));
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return {
    stdout,
    stderr,
    stdin: Readable.from([options.stdin ?? '']),
    env: { HOME: home, PATH: process.env.PATH, ...options.env },
    cwd: home,
    home,
    out: () => out,
    err: () => err,
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}
