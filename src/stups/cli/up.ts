import type { CliIo } from '../../platform/cli/run-cli.js';
import { createLogger } from '../../platform/logger.js';
import type { ServiceName } from '../../platform/service-context.js';
import { configFromEnv, parsePlatformConfig } from '../platform-config.js';
import { startPlatform } from '../runtime.js';

export interface UpOptions {
  dataDir?: string;
  org?: string;
  host?: string;
  basePort?: string;
  tlsCert?: string;
  tlsKey?: string;
  selfSigned?: boolean;
  logLevel?: string;
}

/**
 * `stups up` and `stups serve <service>`: run until SIGINT/SIGTERM, then shut down
 * cleanly (in-flight requests finish, the database closes, the data directory unlocks).
 */
export async function up(
  options: UpOptions,
  io: CliIo,
  only?: { service: ServiceName; port?: number },
): Promise<void> {
  const config = parsePlatformConfig({
    ...configFromEnv(io.env),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.org ? { orgFile: options.org } : {}),
    ...(options.host ? { host: options.host } : {}),
    ...(options.basePort ? { basePort: options.basePort } : {}),
    ...(options.tlsCert ? { tlsCert: options.tlsCert } : {}),
    ...(options.tlsKey ? { tlsKey: options.tlsKey } : {}),
    ...(options.selfSigned ? { selfSigned: true } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  // Logs go to stderr so stdout carries only what a person or script reads.
  const logger = createLogger({ level: config.logLevel, destination: io.stderr });
  const started = Date.now();
  const platform = await startPlatform(config, { logger, only: only?.service, port: only?.port });

  const out = (line = '') => io.stdout.write(`${line}\n`);
  const where = platform.database === 'pglite' ? `PGlite in ${config.dataDir}` : 'PostgreSQL';
  out(`stups is running (${where}), started in ${Date.now() - started} ms`);
  for (const name of platform.listening) out(`  ${name.padEnd(14)} ${platform.urls[name]}`);
  if (platform.certFile)
    out(`  certificate    ${platform.certFile} (trust it in clients, e.g. skopeo --cert-dir)`);
  if (platform.listening.includes('even') && platform.evenPublicKeyFile) {
    out(`  even SSH key   ${platform.evenPublicKeyFile} (install on bastions: docs/odd-bastion.md)`);
  }
  if (!only) {
    const passwords = platform.org.org.users.filter((u) => u.password);
    if (passwords.length) {
      out(`Logins from ${platform.org.path}:`);
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
  }
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
