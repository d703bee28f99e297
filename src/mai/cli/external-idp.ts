import type { AwsSettings } from '../../platform/aws/client-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { assumeRole, providerKind, type TemporaryAwsCredentials } from '../aws/assume-role.js';
import type { MaiProfile } from '../mai-config.js';
import { AuthenticationFailedError, type SamlLogin, samlFormLogin } from '../saml/form-login.js';
import type { MaiDeps } from './session.js';

/** Tries on a terminal before giving up, as STUPS Mai's re-prompt loop (which had no end). */
const PASSWORD_ATTEMPTS = 3;

/**
 * Passwords accepted in this process, per `user@url` (STUPS Mai's keyring key), so `login -r`
 * and `serve-credentials` renew without asking again. Memory only: never written anywhere.
 */
const accepted = new WeakMap<MaiDeps, Map<string, string>>();

/** The user for a company IdP: the profile's `saml_user`, else `SAML_USER` (as `mai create -U`). */
function userOf(profile: MaiProfile, deps: MaiDeps): string {
  const user = profile.saml_user ?? deps.io.env.SAML_USER;
  if (!user) {
    throw new CliError(
      `profile "${profile.name}" has no saml_user for the identity provider at ${profile.saml_identity_provider_url}: ` +
        'set SAML_USER or recreate it with "mai create NAME --url URL -U USER"',
    );
  }
  return user;
}

/** Logs in at the IdP's form, asking for the password on a terminal (again after a refusal). */
export async function loginAtIdp(url: string, user: string, deps: MaiDeps): Promise<SamlLogin> {
  const key = `${user}@${url}`;
  let remembered = accepted.get(deps);
  if (!remembered) accepted.set(deps, (remembered = new Map<string, string>()));
  const known = remembered.get(key);
  if (known !== undefined) {
    try {
      return await samlFormLogin(url, user, known, { fetch: deps.fetch });
    } catch (error) {
      // Changed since: ask again below.
      if (!(error instanceof AuthenticationFailedError)) throw error;
      remembered.delete(key);
    }
  }
  if (!deps.io.stdin.isTTY || !deps.promptPassword) {
    throw new CliError(`mai needs the password of ${user} at ${url}: run it on a terminal`);
  }
  for (let attempt = 1; ; attempt++) {
    const password = await deps.promptPassword(`Password for ${user} at ${new URL(url).host}:`);
    try {
      const login = await samlFormLogin(url, user, password, { fetch: deps.fetch });
      remembered.set(key, password);
      return login;
    } catch (error) {
      if (!(error instanceof AuthenticationFailedError) || attempt >= PASSWORD_ATTEMPTS) throw error;
      deps.io.stderr.write(`${error.message}, please try again\n`);
    }
  }
}

/**
 * STUPS Mai's own flow for companies that keep their IdP: form login → the `SAMLResponse` → the
 * profile's `saml_role` among the assertion's Role pairs → STS `AssumeRoleWithSAML`.
 */
export async function externalSamlCredentials(
  profile: MaiProfile,
  url: string,
  deps: MaiDeps,
  aws: AwsSettings,
): Promise<TemporaryAwsCredentials> {
  const [providerArn, roleArn] = profile.saml_role;
  if (providerKind(providerArn) !== 'saml') {
    throw new CliError(
      `profile "${profile.name}" names the OIDC provider ${providerArn}, but ${url} is a SAML identity provider ` +
        '(its saml_role needs an arn:aws:iam::ACCOUNT:saml-provider/NAME)',
    );
  }
  const user = userOf(profile, deps);
  const login = await loginAtIdp(url, user, deps);
  if (!login.roles.some((r) => r.roleArn === roleArn && r.providerArn === providerArn)) {
    const offered = login.roles.map((r) => r.roleArn).join(', ') || 'none';
    throw new CliError(
      `the identity provider at ${url} does not give ${user} the role ${roleArn} with ${providerArn} (its roles: ${offered})`,
    );
  }
  return assumeRole(aws, { kind: 'saml', samlResponse: login.samlResponse, roleArn, providerArn });
}
