import { z } from 'zod';
import { normaliseUrl, saveToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpClient } from '../../platform/cli/http-client.js';
import type { CliIo } from '../../platform/cli/run-cli.js';
import type { ServiceName } from '../../platform/service-context.js';
import { discover } from '../../zign/oauth-client.js';
import { writeTokenCliConfig } from '../../zign/token-cli-files.js';
import { STUPS_DISCOVERY_PATH } from '../runtime.js';

/** Which CLI config key each service's URL goes to (`~/.config/<tool>/<tool>.yaml`). */
const TOOL_KEYS: Partial<Record<ServiceName, Array<[tool: string, key: string]>>> = {
  'token-service': [['zign', 'url']],
  kio: [['kio', 'url']],
  essentials: [['kio', 'essentials_url']],
  pierone: [['pierone', 'url']],
  even: [['piu', 'even_url']],
  console: [['stups', 'console_url']],
  mint: [['stups', 'mint_url']],
  fullstop: [
    ['fullstop', 'url'],
    ['stups', 'fullstop_url'],
  ],
  sandbox: [['stups', 'sandbox_url']],
  teams: [['stups', 'team_service_url']],
};

/** `/.well-known/stups-configuration`: the URL of each service, by service name. */
const DiscoverySchema = z.object({ services: z.record(z.string(), z.string()).optional() });

/**
 * `stups configure URL`: asks any service of a running platform for the URLs of all of
 * them and writes each CLI's config, so that zign, kio, pierone and piu work at once. The
 * original STUPS Zign (and what is built on its library) is pointed at the token service too,
 * in `~/.config/zalando-token-cli/zalando-token-cli.yaml`.
 */
export async function configure(url: string, options: { user?: string }, io: CliIo): Promise<void> {
  const base = normaliseUrl(url);
  const client = new HttpClient({ baseUrl: base, service: 'the STUPS platform' });
  let discovery: z.output<typeof DiscoverySchema>;
  try {
    discovery = await client.parsed(
      DiscoverySchema,
      'a STUPS discovery document',
      'GET',
      STUPS_DISCOVERY_PATH,
    );
  } catch (error) {
    if (error instanceof CliError && /answered 404/.test(error.message)) {
      throw new CliError(`${base} is not a STUPS platform service (no ${STUPS_DISCOVERY_PATH})`);
    }
    throw error;
  }
  const services = discovery.services ?? {};
  // Asked before anything is written, so that an unreachable token service leaves no half-done setup.
  const tokenService = services['token-service'];
  const endpoints = tokenService === undefined ? undefined : await discover(tokenService);
  const authorizeUrl = endpoints?.authorization;
  if (endpoints && authorizeUrl === undefined) {
    throw new CliError(`the token service at ${tokenService} publishes no authorization endpoint`);
  }
  const written: string[] = [];
  // First the one file whose existing content can be refused (not a mapping): then nothing else is written either.
  const tokenCli: string[] = [];
  if (endpoints && authorizeUrl) {
    const { file, values } = await writeTokenCliConfig(io.env, {
      authorize_url: authorizeUrl,
      token_url: endpoints.token,
    });
    for (const [key, value] of Object.entries(values)) tokenCli.push(`${file}: ${key} = ${value}`);
  }
  for (const [service, url] of Object.entries(services)) {
    for (const [tool, key] of TOOL_KEYS[service as ServiceName] ?? []) {
      const file = await saveToolConfig(tool, io.env, {
        [key]: url,
        ...(tool === 'zign' && options.user ? { user: options.user } : {}),
      });
      written.push(`${file}: ${key} = ${url}`);
    }
  }
  await saveToolConfig(
    'stups',
    io.env,
    Object.fromEntries(Object.entries(services).map(([s, u]) => [`${s.replace(/-/g, '_')}_url`, u])),
  );
  io.stdout.write(`${[...written, ...tokenCli].join('\n')}\n`);
}
