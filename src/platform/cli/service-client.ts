import { getToken, type ZignDeps } from '../../zign/get-token.js';
import { loadToolConfig, normaliseUrl } from './cli-config.js';
import { CliError } from './cli-error.js';
import { HttpClient, timeoutMsFrom } from './http-client.js';

/**
 * An HTTP client for a STUPS service whose URL is in `~/.config/<tool>/<tool>.yaml` (key
 * `url`, or `<TOOL>_URL`), authenticated with the token Zign would give (`zign token`). Calls
 * give up after `timeout` seconds (key `timeout`, or `<TOOL>_TIMEOUT`; default 30).
 */
export async function serviceClient(
  tool: string,
  service: string,
  deps: ZignDeps,
  options: { urlKey?: string; scopes?: readonly string[] } = {},
): Promise<HttpClient> {
  const config = await loadToolConfig(tool, deps.io.env);
  const key = options.urlKey ?? 'url';
  const url = config[key];
  if (!url) {
    throw new CliError(
      `no ${service} URL configured: run "stups configure URL" or set ${tool.toUpperCase()}_${key.toUpperCase()}`,
    );
  }
  const timeoutSetting = `${tool.toUpperCase().replace(/-/g, '_')}_TIMEOUT`;
  return new HttpClient({
    baseUrl: normaliseUrl(url),
    service,
    timeoutMs: timeoutMsFrom(config.timeout, timeoutSetting),
    timeoutSetting,
    fetch: deps.fetch,
    token: () => getToken('default', options.scopes ?? ['uid'], {}, deps),
  });
}
