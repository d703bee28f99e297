import { spawn } from 'node:child_process';
import { loadToolConfig, normaliseUrl } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { type OutputFormat, renderRows } from '../../platform/cli/output.js';
import {
  credentialEnvironment,
  credentialProcessOutput,
  providerKind,
  type TemporaryAwsCredentials,
} from '../aws/assume-role.js';
import { readCredentialsFile, readSection, writeProfileCredentials } from '../aws-credentials-file.js';
import {
  chooseProfile,
  deleteProfile,
  loadMaiConfig,
  loginNeeded,
  type MaiConfig,
  type MaiProfile,
  normaliseIdpUrl,
  putProfile,
  readLastUpdate,
  REFRESH_AFTER_SECONDS,
  saveMaiConfig,
  setDefaultProfile,
  writeLastUpdate,
} from '../mai-config.js';
import { startCredentialServer } from './credential-server.js';
import {
  type AccessRequest,
  ApprovalRequiredError,
  type AwsRole,
  ReasonRequiredError,
  decideAccessRequest,
  listAccessRequests,
  listRoles,
  requestAccess,
} from './identity-provider.js';
import { awsCredentialsFile, type MaiDeps, nowOf, profileCredentials, zignSession } from './session.js';

/** STUPS Mai checked every 2 minutes whether the 54 minutes were up (a laptop may have slept). */
export const REFRESH_CHECK_MS = 120_000;

const roleText = (p: MaiProfile) => {
  const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(p.saml_role[1])?.[1] ?? '?';
  const role = p.saml_role[1].slice(p.saml_role[1].lastIndexOf('/') + 1);
  return `AWS Account ${account} (${p.saml_role[2]}): ${role}`;
};

export async function listCommand(deps: MaiDeps, configFile: string | undefined, format: OutputFormat) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  deps.io.stdout.write(
    renderRows(
      config.profiles,
      [
        { title: 'Name', key: 'name', value: (p) => p.name },
        { title: 'Role', key: 'role', value: roleText },
        { title: 'URL', key: 'url', value: (p) => p.saml_identity_provider_url },
        { title: 'User', key: 'user', value: (p) => p.saml_user ?? null },
        { title: 'Default', key: 'default', value: (p) => p.name === config.defaultProfile },
      ],
      format,
    ),
  );
}

export interface CreateOptions {
  url?: string | undefined;
  user?: string | undefined;
  account?: string | undefined;
  role?: string | undefined;
}

/** The IdP URL for new profiles: `--url`, else the token service zign logs in to. */
async function idpUrl(deps: MaiDeps, given: string | undefined): Promise<string> {
  if (given) return normaliseUrl(normaliseIdpUrl(given));
  const zign = await loadToolConfig('zign', deps.io.env);
  if (!zign.url)
    throw new CliError('no identity provider URL: give --url URL (or run "zign configure --url URL")', 2);
  return normaliseUrl(zign.url);
}

/** The roles the token service gives the caller, filtered by `--account` (id or name) and `--role`. */
async function rolesFor(deps: MaiDeps, options: CreateOptions): Promise<{ url: string; roles: AwsRole[] }> {
  const url = await idpUrl(deps, options.url);
  // A profile only to reach the token service: the provider ARN is not used for listing roles.
  const probe: MaiProfile = {
    name: '(new)',
    saml_identity_provider_url: url,
    saml_role: ['', '', ''],
    saml_user: options.user,
  };
  const session = await zignSession(probe, deps);
  const all = await listRoles(session);
  if (all.length === 0) {
    throw new CliError(
      `the token service at ${url} gives you no AWS roles (roles follow team membership: ask your team to add you)`,
    );
  }
  const roles = all.filter(
    (r) =>
      (!options.account || r.account_id === options.account || r.account_name === options.account) &&
      (!options.role || r.role_name === options.role || r.role_arn === options.role),
  );
  return { url, roles };
}

function toProfile(name: string, url: string, role: AwsRole, user: string | undefined): MaiProfile {
  return {
    name,
    saml_identity_provider_url: url,
    saml_role: [role.provider_arn, role.role_arn, role.account_name ?? role.account_id],
    saml_user: user,
  };
}

const describeRole = (r: AwsRole) => `${r.account_id} (${r.account_name ?? '-'}) ${r.role_name}`;

export async function createCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  name: string,
  options: CreateOptions,
) {
  checkProfileName(name);
  const config = await loadMaiConfig(deps.io.env, configFile);
  const { url, roles } = await rolesFor(deps, options);
  if (roles.length === 0) {
    throw new CliError(
      'none of your AWS roles matches --account/--role (see "mai create-all" or leave them out)',
    );
  }
  let chosen = roles[0]!;
  if (roles.length > 1) {
    // As STUPS Mai: several roles → the person chooses; in scripts (no terminal) the filters must.
    if (!deps.chooseRole || !deps.io.stdin.isTTY) {
      throw new CliError(
        `${roles.length} roles match, choose one with --account and --role: ${roles.map(describeRole).join('; ')}`,
      );
    }
    const index = await deps.chooseRole(roles.map(describeRole));
    if (!Number.isInteger(index) || index < 0 || index >= roles.length) throw new CliError('no role chosen');
    chosen = roles[index]!;
  }
  const profile = toProfile(name, url, chosen, options.user);
  putProfile(config, profile);
  await saveMaiConfig(config);
  deps.io.stdout.write(`Profile ${name} created: ${roleText(profile)}\n`);
}

/**
 * One profile per role, named `<account name>-<role name>`. STUPS cut the first "-" segment off
 * both because its SAML names carried the organisation (`example-myteam`, `Shibboleth-PowerUser`);
 * ours carry none, so cutting would turn `team-a` into `a` and could make two names collide.
 */
export async function createAllCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  options: CreateOptions,
) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  const { url, roles } = await rolesFor(deps, options);
  for (const role of roles) {
    const name = `${role.account_name ?? role.account_id}-${role.role_name}`;
    putProfile(config, toProfile(name, url, role, options.user));
    deps.io.stdout.write(`Profile ${name}: ${describeRole(role)}\n`);
  }
  await saveMaiConfig(config);
}

const PROFILE_NAME = /^[\w.@+-]{1,128}$/;
function checkProfileName(name: string): void {
  if (name === 'global' || !PROFILE_NAME.test(name)) {
    throw new CliError(`invalid profile name "${name}": use letters, digits, ".", "_", "@", "+" or "-"`, 2);
  }
}

function requireProfile(config: MaiConfig, name: string): void {
  if (!config.profiles.some((p) => p.name === name)) {
    throw new CliError(`profile "${name}" does not exist (see "mai list")`);
  }
}

export async function deleteCommand(deps: MaiDeps, configFile: string | undefined, name: string) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  requireProfile(config, name);
  deleteProfile(config, name);
  await saveMaiConfig(config);
  deps.io.stdout.write(`Profile ${name} deleted.\n`);
}

export async function setDefaultCommand(deps: MaiDeps, configFile: string | undefined, name: string) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  requireProfile(config, name);
  setDefaultProfile(config, name);
  await saveMaiConfig(config);
  deps.io.stdout.write(`Default profile is now ${name}.\n`);
}

export interface LoginOptions {
  refresh?: boolean | undefined;
  awsprofile?: string | undefined;
  /** Why: asks for a second approver's approval when the role needs one (issue 19). */
  reason?: string | undefined;
}

/** Logs one profile in and writes its credentials into section `awsProfile`. */
async function loginProfile(
  deps: MaiDeps,
  profile: MaiProfile,
  awsProfile: string,
  reason?: string,
): Promise<void> {
  providerKind(profile.saml_role[0]);
  let credentials;
  try {
    credentials = await credentialsWithReason(deps, profile, reason, `mai login ${profile.name}`);
  } catch (error) {
    if (!(error instanceof ApprovalRequiredError)) throw error;
    if (!reason) {
      throw new CliError(
        `${roleText(profile)} needs a second approver: run "mai login ${profile.name} --reason TEXT" to ask for it`,
      );
    }
    const request = await askForAccess(deps, profile, reason);
    throw new CliError(`${roleText(profile)} needs a second approver: ${pendingText(request)}`);
  }
  const file = awsCredentialsFile(deps.io.env);
  await writeProfileCredentials(file, awsProfile, credentials);
  await writeLastUpdate(deps.io.env, { timestamp: nowOf(deps) / 1000, profile: profile.name });
  deps.io.stdout.write(
    `${roleText(profile)}: credentials for [${awsProfile}] in ${file}, valid until ${credentials.expiration.toISOString()}\n`,
  );
}

/**
 * A profile's credentials, with the reason the token service requires for its account
 * (`reasonRequiredAccounts`): without one, a line naming the account and the flag to give.
 */
async function credentialsWithReason(
  deps: MaiDeps,
  profile: MaiProfile,
  reason: string | undefined,
  command: string,
): Promise<TemporaryAwsCredentials> {
  try {
    return await profileCredentials(profile, deps, { reason });
  } catch (error) {
    if (!(error instanceof ReasonRequiredError)) throw error;
    const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(profile.saml_role[1])?.[1] ?? '?';
    throw new CliError(
      `account ${account} (${profile.saml_role[2]}) requires a reason for access: run "${command} --reason TEXT"`,
    );
  }
}

/** Profiles named on the command line, else the last one logged in with, else the default. */
async function profilesToLogin(deps: MaiDeps, config: MaiConfig, names: string[]): Promise<MaiProfile[]> {
  if (names.length > 0) return names.map((n) => chooseProfile(config, n));
  const last = await readLastUpdate(deps.io.env);
  const lastProfile = last && config.profiles.find((p) => p.name === last.profile);
  return [lastProfile ?? chooseProfile(config)];
}

function sleepUntilAborted(ms: number, deps: MaiDeps): Promise<void> {
  if (deps.sleep) return deps.sleep(ms);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      deps.signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    deps.signal?.addEventListener('abort', done, { once: true });
  });
}

export async function loginCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  names: string[],
  options: LoginOptions,
) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  const profiles = await profilesToLogin(deps, config, names);
  // Several profiles cannot share one section: each gets its own unless --awsprofile says otherwise.
  const section = (p: MaiProfile) => options.awsprofile ?? (profiles.length > 1 ? p.name : 'default');
  // The first login fails the command; in the -r loop a failed renewal (network, an expired zign
  // session) is one line and is tried again at the next check, so the loop outlives a short outage.
  for (const profile of profiles) await loginProfile(deps, profile, section(profile), options.reason);
  if (!options.refresh) return;
  let due = nowOf(deps) + REFRESH_AFTER_SECONDS * 1000;
  for (;;) {
    deps.io.stderr.write(`Refreshing at ${new Date(due).toISOString()} (Ctrl-C to stop)\n`);
    while (nowOf(deps) < due) {
      if (deps.signal?.aborted) return;
      await sleepUntilAborted(Math.min(REFRESH_CHECK_MS, due - nowOf(deps)), deps);
    }
    if (deps.signal?.aborted) return;
    try {
      for (const profile of profiles) await loginProfile(deps, profile, section(profile), options.reason);
      due = nowOf(deps) + REFRESH_AFTER_SECONDS * 1000;
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      deps.io.stderr.write(`mai: ${error.message} (trying again in ${REFRESH_CHECK_MS / 60_000} minutes)\n`);
      due = nowOf(deps) + REFRESH_CHECK_MS;
    }
  }
}

/** Logs in only when the last login is older than 54 minutes, for another profile, or its credentials are gone. */
export async function requireCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  name: string | undefined,
  options: { reason?: string | undefined } = {},
) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  const last = await readLastUpdate(deps.io.env);
  const profile = chooseProfile(
    config,
    name ?? (last && config.profiles.some((p) => p.name === last.profile) ? last.profile : undefined),
  );
  const section = readSection(await readCredentialsFile(awsCredentialsFile(deps.io.env)), 'default');
  if (!section?.aws_access_key_id || loginNeeded(last, profile.name, nowOf(deps) / 1000)) {
    await loginProfile(deps, profile, 'default', options.reason);
  }
}

/** Why, for the commands that log in: `--reason` (issue 19). */
export interface ReasonOptions {
  reason?: string | undefined;
}

export async function credentialProcessCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  name: string,
  options: ReasonOptions = {},
) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  const profile = chooseProfile(config, name);
  const credentials = await credentialsWithReason(
    deps,
    profile,
    options.reason,
    `mai credential-process ${profile.name}`,
  );
  deps.io.stdout.write(credentialProcessOutput(credentials));
}

/** Runs a command with the credentials in its environment only; returns its exit code. */
export async function execCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  name: string,
  given: string[],
  options: ReasonOptions = {},
): Promise<number> {
  // passThroughOptions keeps the "--" that ends mai's own options.
  const command = given[0] === '--' ? given.slice(1) : given;
  if (command.length === 0)
    throw new CliError('give the command to run after "--": mai exec PROFILE -- CMD', 2);
  const config = await loadMaiConfig(deps.io.env, configFile);
  const profile = chooseProfile(config, name);
  const credentials = await credentialsWithReason(deps, profile, options.reason, `mai exec ${profile.name}`);
  const env: NodeJS.ProcessEnv = { ...deps.io.env, ...credentialEnvironment(credentials) };
  // A profile in the environment would make some tools look for it instead of the variables.
  delete env.AWS_PROFILE;
  delete env.AWS_DEFAULT_PROFILE;
  const own = deps.io.stdout === process.stdout;
  const child = spawn(command[0]!, command.slice(1), {
    env,
    cwd: deps.io.cwd,
    stdio: own ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  if (!own) {
    child.stdout?.on('data', (chunk: Buffer) => deps.io.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => deps.io.stderr.write(chunk));
  }
  return new Promise<number>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CliError(`cannot run ${command[0]}: ${error.code ?? error.message}`)),
    );
    child.once('close', (code, signal) => {
      // The shell's convention for a child killed by a signal: 128 + its number.
      const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
      resolve(code ?? 128 + (signal ? (signalNumbers[signal] ?? 1) : 1));
    });
  });
}

export interface ServeOptions extends ReasonOptions {
  port?: string | undefined;
}

export async function serveCredentialsCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  name: string,
  options: ServeOptions,
) {
  const config = await loadMaiConfig(deps.io.env, configFile);
  const profile = chooseProfile(config, name);
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be a port number, not "${options.port}"`, 2);
  // Logged in once before listening: a profile that cannot log in fails here, not in the client.
  const first = await credentialsWithReason(
    deps,
    profile,
    options.reason,
    `mai serve-credentials ${profile.name}`,
  );
  let initial: typeof first | undefined = first;
  const server = await startCredentialServer({
    now: () => nowOf(deps),
    port,
    obtain: async () => {
      const given = initial;
      initial = undefined;
      return given ?? profileCredentials(profile, deps, { reason: options.reason });
    },
    onError: (message) => deps.io.stderr.write(`mai: ${message}\n`),
  });
  deps.io.stdout.write(
    `export AWS_CONTAINER_CREDENTIALS_FULL_URI=${server.url}\nexport AWS_CONTAINER_AUTHORIZATION_TOKEN=${server.token}\n`,
  );
  deps.io.stderr.write(`Serving credentials of ${profile.name} (${roleText(profile)}); Ctrl-C to stop\n`);
  deps.serving?.({ url: server.url, token: server.token });
  await new Promise<void>((resolve) => {
    // Without a signal it serves until the process ends (main always gives one: Ctrl-C).
    if (deps.signal?.aborted) resolve();
    else deps.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
}

const approversText = (r: AccessRequest) =>
  r.team ? `a member of team ${r.team} or a platform administrator` : 'a platform administrator';

function pendingText(r: AccessRequest): string {
  return `access request ${r.id} is ${r.state}; ${approversText(r)} approves it with "mai approve ${r.id}"`;
}

async function askForAccess(deps: MaiDeps, profile: MaiProfile, reason: string): Promise<AccessRequest> {
  const session = await zignSession(profile, deps);
  const roleArn = profile.saml_role[1];
  const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(roleArn)?.[1] ?? profile.saml_role[2];
  return requestAccess(session, { account, role: roleArn, reason });
}

/** `mai request PROFILE --reason TEXT`: asks for the profile's role without trying to log in. */
export async function requestCommand(
  deps: MaiDeps,
  configFile: string | undefined,
  name: string | undefined,
  options: { reason?: string | undefined },
) {
  if (!options.reason?.trim()) throw new CliError('give the reason with --reason TEXT', 2);
  const config = await loadMaiConfig(deps.io.env, configFile);
  const profile = chooseProfile(config, name);
  const request = await askForAccess(deps, profile, options.reason);
  deps.io.stdout.write(`${roleText(profile)}: ${pendingText(request)}\n`);
}

/** The token service to ask about requests: `--url`, else zign's. */
async function approverSession(deps: MaiDeps, url: string | undefined) {
  const probe: MaiProfile = {
    name: '(approvals)',
    saml_identity_provider_url: await idpUrl(deps, url),
    saml_role: ['', '', ''],
  };
  return zignSession(probe, deps);
}

export async function requestsCommand(
  deps: MaiDeps,
  options: { url?: string | undefined; state?: string | undefined },
  format: OutputFormat,
) {
  const session = await approverSession(deps, options.url);
  const requests = await listAccessRequests(session, options.state);
  deps.io.stdout.write(
    renderRows(
      requests,
      [
        { title: 'Id', key: 'id', value: (r) => r.id },
        { title: 'Requester', key: 'requester', value: (r) => r.requester },
        { title: 'Account', key: 'account', value: (r) => r.account_id },
        { title: 'Team', key: 'team', value: (r) => r.team },
        { title: 'Role', key: 'role', value: (r) => r.role_name },
        { title: 'Reason', key: 'reason', value: (r) => r.reason },
        { title: 'State', key: 'state', value: (r) => r.state },
        { title: 'Expires', key: 'expires', value: (r) => r.expires },
      ],
      format,
    ),
  );
}

export async function decideCommand(
  deps: MaiDeps,
  id: string,
  verdict: 'approval' | 'rejection',
  options: { url?: string | undefined; comment?: string | undefined },
) {
  const session = await approverSession(deps, options.url);
  const decided = await decideAccessRequest(session, id, verdict, options.comment);
  deps.io.stdout.write(
    `Access request ${decided.id} of ${decided.requester} (${decided.role_name} in ${decided.account_id}): ${decided.state}` +
      (decided.state === 'approved' ? ` until ${decided.expires}\n` : '\n'),
  );
}
