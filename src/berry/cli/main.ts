import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { awsSettingsFromEnv } from '../../platform/aws/client-config.js';
import { loadToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { type CliIo, processIo, runCli } from '../../platform/cli/run-cli.js';
import { readAwsCredentialsFile, readBerryYaml } from '../config.js';
import { BerryAgent, type BerryLog, type CredentialFile } from '../credentials-sync.js';
import { diskBucket, type MintBucket } from '../mint-bucket.js';

export const DEFAULT_CONFIG_FILE = '/etc/taupage.yaml';
export const DEFAULT_INTERVAL_SECONDS = 120;
/** How long an `--exec` command may run before berry gives up on it (and kills it). */
const EXEC_TIMEOUT_MS = 60_000;

export interface BerryDeps {
  io: CliIo;
  /** Ends the continuous loop (main wires SIGTERM and SIGINT to it). */
  signal?: AbortSignal;
}

interface BerryOptions {
  configFile: string;
  applicationId?: string;
  mintBucket?: string;
  awsCredentialsFile?: string;
  interval: number;
  once?: boolean;
  silent?: boolean;
  bucketsDir?: string;
  exec?: string;
  signal?: { pid: number; signal: NodeJS.Signals };
  statusFile?: string;
}

function parseInterval(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError('a whole number of seconds, at least 1');
  }
  return Number(value);
}

/** `PID:SIG`, e.g. `1234:HUP` or `1234:SIGUSR1`; the signal must be one this system knows. */
export function parseSignalTarget(value: string): { pid: number; signal: NodeJS.Signals } {
  const match = /^(\d+):(?:SIG)?([A-Z0-9]+)$/i.exec(value);
  const name = `SIG${(match?.[2] ?? '').toUpperCase()}`;
  const known = Object.keys(constants.signals);
  const signal = known.find((s): s is NodeJS.Signals => s === name);
  if (!match || !signal || Number(match[1]) < 1) {
    throw new InvalidArgumentError('PID:SIGNAL, e.g. 1234:HUP');
  }
  return { pid: Number(match[1]), signal };
}

/** Runs `--exec` through the shell, as a service manager would; its output goes to berry's. */
function runExec(command: string, changed: readonly CredentialFile[], dir: string, io: CliIo): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...io.env, CREDENTIALS_DIR: dir, BERRY_CHANGED_FILES: changed.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: EXEC_TIMEOUT_MS,
    });
    child.stdout.on('data', (chunk: Buffer) => io.stdout.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk));
    child.on('error', (error) => reject(new Error(`--exec command could not start: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`--exec command ${signal ? `was killed by ${signal}` : `exited with ${code}`}`));
    });
  });
}

function sendSignal(target: { pid: number; signal: NodeJS.Signals }): void {
  try {
    process.kill(target.pid, target.signal);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new Error(`could not send ${target.signal} to process ${target.pid}: ${code}`);
  }
}

/** `berry`: keeps an application's mint credentials in a local folder. */
export function berryProgram(deps: BerryDeps): Command {
  const { io } = deps;
  return new Command('berry')
    .description(
      "Downloads an application's OAuth credentials (user.json, client.json) from its mint bucket into DIR, once or every interval",
    )
    .version('0.1.0')
    .argument('<dir>', 'local folder for user.json and client.json (Taupage: /meta/credentials)')
    .option('-f, --config-file <file>', 'YAML with application_id and mint_bucket', DEFAULT_CONFIG_FILE)
    .option('-a, --application-id <id>', 'application id (overrides the YAML)')
    .option('-m, --mint-bucket <bucket>', 'mint bucket (overrides the YAML)')
    .option(
      '-c, --aws-credentials-file <file>',
      'lines <application_id>:<access_key_id>:<secret_access_key>, read before every download',
    )
    .option('-i, --interval <seconds>', 'seconds between downloads', parseInterval, DEFAULT_INTERVAL_SECONDS)
    .option('--once', 'download once and exit: 0 when both files are current, 1 on any error')
    .option('-s, --silent', 'log errors only')
    .option(
      '--buckets-dir <dir>',
      'read buckets from folders <dir>/<bucket>/<app>/ instead of S3 (stups up: <data dir>/buckets; env BERRY_BUCKETS_DIR)',
    )
    .option(
      '--exec <command>',
      'shell command to run when credentials changed (gets CREDENTIALS_DIR, BERRY_CHANGED_FILES)',
    )
    .option(
      '--signal <pid:signal>',
      'signal to send when credentials changed, e.g. 1234:HUP',
      parseSignalTarget,
    )
    .option(
      '--status-file <file>',
      'JSON with last success and last error, for health checks (env BERRY_STATUS_FILE)',
    )
    .action(async (dirArgument: string, options: BerryOptions) => {
      const once = options.once === true;
      // In --once mode errors end as the one line of the exit; continuously they are the log.
      const log: BerryLog = {
        info: (message) => {
          if (!options.silent) io.stderr.write(`INFO: ${message}\n`);
        },
        error: (message) => {
          if (!once) io.stderr.write(`ERROR: ${message}\n`);
        },
      };
      const tool = await loadToolConfig('berry', io.env);
      const configFile = resolve(io.cwd, options.configFile);
      let applicationId = options.applicationId ?? tool.application_id;
      let mintBucket = options.mintBucket ?? tool.mint_bucket;
      // The YAML only fills what flags and environment left open (so -a and -m need no file).
      if (!applicationId || !mintBucket) {
        const yaml = await readBerryYaml(configFile, (message) => {
          if (!options.silent) io.stderr.write(`WARNING: ${message}\n`);
        });
        applicationId ??= yaml.application_id;
        mintBucket ??= yaml.mint_bucket;
      }
      if (!applicationId) {
        throw new CliError(
          'Usage Error: Application ID missing, please set "application_id" in your configuration YAML',
        );
      }
      if (!mintBucket) {
        throw new CliError(
          'Usage Error: Mint Bucket is not configured, please set "mint_bucket" in your configuration YAML',
        );
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(applicationId) || applicationId.includes('..')) {
        throw new CliError(`Usage Error: invalid application id "${applicationId}"`);
      }
      const dir = resolve(io.cwd, dirArgument);
      const bucketsDirOption = options.bucketsDir ?? tool.buckets_dir;
      const bucketsDir = bucketsDirOption ? resolve(io.cwd, bucketsDirOption) : undefined;
      const statusFileOption = options.statusFile ?? tool.status_file;
      const credentialsFile = options.awsCredentialsFile
        ? resolve(io.cwd, options.awsCredentialsFile)
        : undefined;
      const aws = awsSettingsFromEnv(io.env);

      const openBucket = async (): Promise<MintBucket & { destroy?: () => void }> => {
        if (bucketsDir) return diskBucket(bucketsDir, mintBucket);
        const credentials = credentialsFile
          ? await readAwsCredentialsFile(credentialsFile, applicationId)
          : undefined;
        // The SDK is loaded only when S3 is used: `--help` and folder buckets stay fast.
        const { s3Bucket } = await import('../aws/s3-bucket.js');
        return s3Bucket(aws, mintBucket, credentials);
      };

      const { exec, signal: signalTarget } = options;
      const agent = new BerryAgent({
        applicationId,
        dir,
        openBucket,
        log,
        statusFile: statusFileOption ? resolve(io.cwd, statusFileOption) : undefined,
        onChange:
          exec || signalTarget
            ? async (changed) => {
                if (exec) await runExec(exec, changed, dir, io);
                if (signalTarget) sendSignal(signalTarget);
              }
            : undefined,
      });

      if (once) {
        const outcome = await agent.syncOnce();
        if (outcome.errors.length > 0) throw new CliError(outcome.errors.join('; '));
        return;
      }
      log.info(
        `Starting berry for ${applicationId}: ${bucketsDir ? `folder ${bucketsDir}/${mintBucket}` : `S3 bucket ${mintBucket}`} → ${dir}, every ${options.interval} s`,
      );
      await agent.run(options.interval, deps.signal ?? new AbortController().signal);
      log.info('Stopped');
    });
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  // As senza: the SDK's Node 22 notice would be seven lines in every log (docs/adr/0003).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = processIo();
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.exitCode = await runCli(berryProgram({ io, signal: controller.signal }), argv, io);
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
}
