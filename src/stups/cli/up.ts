import { CliError } from '../../platform/cli/cli-error.js';
import type { CliIo } from '../../platform/cli/run-cli.js';
import { ConfigError } from '../../platform/errors.js';
import { createLogger } from '../../platform/logger.js';
import type { ServiceName } from '../../platform/service-context.js';
import { type RunningPlatform, startPlatform } from '../runtime.js';
import { loadSettings, type StupsSettings } from '../settings.js';

export interface UpOptions {
  config?: string;
  dataDir?: string;
  org?: string;
  host?: string;
  basePort?: string;
  tlsCert?: string;
  tlsKey?: string;
  selfSigned?: boolean;
  logLevel?: string;
}

/** Flags as a partial settings tree; they win over the file and the environment. */
function flagSettings(options: UpOptions): Record<string, unknown> {
  return {
    platform: {
      dataDir: options.dataDir,
      orgFile: options.org,
      host: options.host,
      basePort: options.basePort,
      tlsCert: options.tlsCert,
      tlsKey: options.tlsKey,
      selfSigned: options.selfSigned ? true : undefined,
      logLevel: options.logLevel,
    },
  };
}

/**
 * The settings `stups up`, `serve` and `config print` run with. An invalid configuration is a
 * usage error: every problem on its own line, exit code 2, nothing started.
 */
export async function settingsFor(options: UpOptions, io: CliIo): Promise<StupsSettings> {
  try {
    return await loadSettings({ env: io.env, configFile: options.config, flags: flagSettings(options) });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/**
 * `stups up` and `stups serve <service>`: run until SIGINT/SIGTERM, then shut down
 * cleanly (in-flight requests finish, jobs stop, the database closes, the data directory unlocks).
 */
export async function up(
  options: UpOptions,
  io: CliIo,
  only?: { service: ServiceName; port?: number },
): Promise<void> {
  const settings = await settingsFor(options, io);
  const config = settings.platform;
  // Logs go to stderr so stdout carries only what a person or script reads.
  const logger = createLogger({ level: config.logLevel, destination: io.stderr });
  const started = Date.now();
  let platform: RunningPlatform;
  try {
    platform = await startPlatform(settings, { logger, only: only?.service, port: only?.port });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }

  const out = (line = '') => io.stdout.write(`${line}\n`);
  const where = platform.database === 'pglite' ? `PGlite in ${config.dataDir}` : 'PostgreSQL';
  out(`stups is running (${where}), started in ${Date.now() - started} ms`);
  for (const name of platform.listening) out(`  ${name.padEnd(14)} ${platform.urls[name]}`);
  if (platform.certFile)
    out(`  certificate    ${platform.certFile} (trust it in clients, e.g. skopeo --cert-dir)`);
  for (const name of platform.listening) for (const note of platform.notes[name] ?? []) out(`  ${note}`);
  // Only the demo organisation's passwords are printed: they are public in the repository. A
  // custom org file's passwords are real credentials and must not reach a terminal or a log.
  if (!only && platform.isDemoOrg) printDemoLogins(platform, out);
  out('Stop with Ctrl-C.');

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      logger.info({ signal }, 'shutting down');
      platform.stop().then(resolve, resolve);
    };
    const onInt = () => shutdown('SIGINT');
    const onTerm = () => shutdown('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  out('stups stopped.');
}

function printDemoLogins(platform: RunningPlatform, out: (line?: string) => void): void {
  const passwords = platform.org.org.users.filter((u) => u.password);
  if (!passwords.length) return;
  out(`Demo logins (${platform.org.path}):`);
  const admins = new Set(platform.org.org.admins);
  for (const user of passwords) {
    const teams = platform.org.org.teams.filter((t) => t.members.includes(user.uid)).map((t) => t.id);
    const notes = [
      admins.has(user.uid) ? 'platform admin' : '',
      teams.length ? `teams: ${teams.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    out(`  ${user.uid} / ${user.password}${notes ? `   (${notes})` : ''}`);
  }
}
