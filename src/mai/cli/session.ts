import { homedir } from 'node:os';
import { join } from 'node:path';
import { awsSettingsFromEnv } from '../../platform/aws/client-config.js';
import { loadToolConfig, normaliseUrl } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import type { CliIo } from '../../platform/cli/run-cli.js';
import { DEFAULT_TOKEN_NAME, getToken, type ZignDeps } from '../../zign/get-token.js';
import type { TemporaryAwsCredentials } from '../aws/assume-role.js';
import type { MaiProfile } from '../mai-config.js';
import { externalSamlCredentials } from './external-idp.js';
import { discoverIdp, exchangeFor, type IdpSession, type PlatformIdp } from './identity-provider.js';

/** What every mai command gets: Zign's dependencies plus a clock, a sleep and a stop signal. */
export interface MaiDeps extends ZignDeps {
  /** Milliseconds since the epoch (tests move it instead of waiting). */
  now?: () => number;
  /** Ends `login -r` and `serve-credentials` (Ctrl-C in `main`). */
  signal?: AbortSignal;
  /** Asks the person on a terminal to pick one of several roles (`mai create`); the index. */
  chooseRole?: (choices: string[]) => Promise<number>;
  /** Told where `serve-credentials` listens (tests; the user reads the printed lines). */
  serving?: (endpoint: { url: string; token: string }) => void;
}

export const nowOf = (deps: MaiDeps): number => (deps.now ?? Date.now)();

/** `~/.aws/credentials`, or where `AWS_SHARED_CREDENTIALS_FILE` says, as the AWS SDKs and CLI read it. */
export function awsCredentialsFile(env: NodeJS.ProcessEnv): string {
  return env.AWS_SHARED_CREDENTIALS_FILE || join(env.HOME || homedir(), '.aws', 'credentials');
}

/**
 * Zign's session for the profile's token service, never a second login flow: the `default` token
 * when zign is configured for this URL (the usual case), else a token of its own name, obtained
 * through the same code (cache, refresh token, password prompt on a terminal).
 */
export async function zignSession(
  profile: MaiProfile,
  deps: MaiDeps,
  discovered?: PlatformIdp,
): Promise<IdpSession> {
  const url = normaliseUrl(profile.saml_identity_provider_url);
  const idp = discovered ?? (await discoverIdp(url, deps.fetch));
  if (!idp) {
    throw new CliError(
      `${url} is not a STUPS token service but a SAML identity provider with a login form: ` +
        'only "mai login", "require", "credential-process", "exec" and "serve-credentials" use it',
    );
  }
  const zign = await loadToolConfig('zign', deps.io.env);
  const same = !zign.url || normaliseUrl(zign.url) === url;
  const name = same ? DEFAULT_TOKEN_NAME : `mai@${new URL(url).host}`;
  const io: CliIo = { ...deps.io, env: { ...deps.io.env, ZIGN_URL: url } };
  let token: string;
  try {
    // saml_user only where zign knows no user: zign saves a given user into its own config.
    const user = zign.user ? undefined : profile.saml_user;
    token = await getToken(name, ['uid'], { user }, { ...deps, io });
  } catch (error) {
    if (error instanceof CliError && /^not logged in|^no user name/.test(error.message)) {
      const login = same ? 'zign login' : `ZIGN_URL=${url} zign login`;
      throw new CliError(`not logged in to the token service at ${url}: run "${login}" first`);
    }
    throw error;
  }
  return { idp, token, fetch: deps.fetch };
}

/** What a login may carry besides the profile. */
export interface CredentialOptions {
  /** Why (issue 19): sent to the token service, which requires it for `reasonRequiredAccounts`. */
  reason?: string | undefined;
}

/**
 * Temporary credentials for a profile: Zign's token → assertion → STS, or for a company's own
 * SAML IdP its login form → SAMLResponse → STS. Nothing is written.
 */
export async function profileCredentials(
  profile: MaiProfile,
  deps: MaiDeps,
  options: CredentialOptions = {},
): Promise<TemporaryAwsCredentials> {
  const url = normaliseUrl(profile.saml_identity_provider_url);
  const aws = awsSettingsFromEnv(deps.io.env);
  const idp = await discoverIdp(url, deps.fetch);
  if (!idp) return externalSamlCredentials(profile, url, deps, aws);
  const session = await zignSession(profile, deps, idp);
  return exchangeFor(profile).credentials(profile, session, aws, options);
}
