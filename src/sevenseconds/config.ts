import { Minimatch } from 'minimatch';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  type AccountConfig,
  type ConfigFile,
  ConfigFileSchema,
  type PolicyDocument,
  type Section,
  SUPPORTED_CONFIG_VERSION,
} from './contract.js';

/** Every problem of a configuration file, each as `path: message`; thrown before any AWS call. */
export class ConfigProblems extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigProblems';
  }
}

export interface LoadedConfig {
  /** Accounts in file order, merged and templated. */
  accounts: AccountConfig[];
}

/** What a login assumes when the file names no `login_role`: the role AWS Organizations creates. */
export const DEFAULT_LOGIN_ROLE = 'OrganizationAccountAccessRole';

function issuePath(path: readonly PropertyKey[]): string {
  return path.length ? path.map(String).join('.') : '(file)';
}

function zodProblems(error: z.ZodError): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    // A union failing on every branch says little; the branch errors say which key is wrong.
    if (issue.code === 'invalid_union' && issue.errors.length) {
      const first = issue.errors[0] ?? [];
      for (const inner of first) out.push(`${issuePath([...issue.path, ...inner.path])}: ${inner.message}`);
      continue;
    }
    out.push(`${issuePath(issue.path)}: ${issue.message}`);
  }
  return out;
}

/**
 * Replaces `{account_name}`, `{account_id}` and `{account_id:<name>}` in every string; leaves
 * `{region}` and `{bucket_name}` for the resource that knows them, and IAM's own `${...}`
 * variables alone.
 */
export function applyTemplates<T>(
  value: T,
  vars: { account_name: string; account_id: string },
  ids: ReadonlyMap<string, string>,
  problem: (message: string) => void,
): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(
        /(?<!\$)\{(account_name|account_id)(?::([a-z0-9-]+))?\}/g,
        (all, key: string, other?: string) => {
          if (key === 'account_name') return other ? all : vars.account_name;
          if (!other) return vars.account_id;
          const id = ids.get(other);
          if (!id) {
            problem(`{account_id:${other}} names no account with an id`);
            return all;
          }
          return id;
        },
      );
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** `{region}` and `{bucket_name}` where a resource knows them. */
export function fillTemplate<T>(value: T, vars: Readonly<Record<string, string>>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/(?<!\$)\{(\w+)\}/g, (all, key: string) => vars[key] ?? all);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** STUPS merge: shallow; an account-level key replaces the whole global value. */
export function mergeSection(global: Section, account: Section | null): Section {
  return { ...global, ...(account ?? {}) };
}

function statements(doc: PolicyDocument | undefined): PolicyDocument['Statement'][] {
  if (!doc) return [];
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/** Parses, checks and merges a configuration file's text; throws ConfigProblems listing them all. */
export function loadConfig(text: string): LoadedConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigProblems([`(file): not YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigProblems(['(file): must be a mapping with version, global and accounts']);
  }
  // The version is checked first: an older file's keys would otherwise drown it in noise.
  const version = (raw as { version?: unknown }).version;
  if (version !== SUPPORTED_CONFIG_VERSION) {
    throw new ConfigProblems([
      `version: Only configuration version ${SUPPORTED_CONFIG_VERSION} is supported (found ${version === undefined ? 'none' : JSON.stringify(version)}), please update sevenseconds`,
    ]);
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigProblems(zodProblems(parsed.error));
  return mergeConfig(parsed.data);
}

/** The merge, the templates and the checks that need the whole file. */
export function mergeConfig(file: ConfigFile): LoadedConfig {
  const problems: string[] = [];
  const names = Object.keys(file.accounts);
  const ids = new Map<string, string>();
  for (const name of names) {
    const id = file.accounts[name]?.id;
    if (id) ids.set(name, id);
  }
  if (file.global.id) problems.push('global.id: an account id belongs to one account, not to global');
  if (file.global.service_identities) {
    problems.push('global.service_identities: service identities live in one (state) account, not in global');
  }
  const seenIds = new Map<string, string>();
  const accounts: AccountConfig[] = [];
  for (const name of names) {
    const own = file.accounts[name] ?? null;
    const at = `accounts.${name}`;
    const problem = (key: string) => (message: string) => problems.push(`${at}.${key}: ${message}`);
    if (own?.base_ami) problem('base_ami')('base_ami can only be set in global (the AMI account is shared)');
    const merged = mergeSection(file.global, own);
    const id = own?.id;
    if (!id) problem('id')('required (the 12-digit AWS account id)');
    else if (seenIds.has(id)) problem('id')(`same id as account ${seenIds.get(id)}`);
    else seenIds.set(id, name);
    if (!merged.regions) problem('regions')('required (here or in global)');
    if (!merged.environment)
      problem('environment')('required: production or non-production (here or in global)');
    if (!merged.admin_account) problem('admin_account')('required (here or in global)');
    else if (!names.includes(merged.admin_account)) {
      problem('admin_account')(`"${merged.admin_account}" is not an account of this file`);
    }
    if (merged.base_ami && !names.includes(merged.base_ami.account_name)) {
      problem('base_ami.account_name')(`"${merged.base_ami.account_name}" is not an account of this file`);
    }
    if (merged.enable_odd) {
      if (!merged.base_ami) problem('enable_odd')('the odd host needs base_ami (its Taupage image)');
      // Both made every run differ from the last: no plan could ever be empty.
      if (merged.bastion?.version_url) problem('bastion.version_url')('not supported by this sevenseconds');
      if (merged.bastion?.re_deploy) problem('bastion.re_deploy')('not supported by this sevenseconds');
    }
    if (merged.acm && !merged.domain) {
      for (const [key, cert] of Object.entries(merged.acm)) {
        if (!cert.domain_name || !cert.validation_domain)
          problem(`acm.${key}`)('needs domain (or domain_name and validation_domain)');
      }
    }
    const templated = applyTemplates(
      merged,
      { account_name: name, account_id: id ?? '{account_id}' },
      ids,
      (message) => problems.push(`${at}: ${message}`),
    );
    const roles = { ...(templated.roles ?? {}) };
    for (const [i, extra] of (templated.additional_policies ?? []).entries()) {
      const role = roles[extra.role];
      if (!role) {
        problem(`additional_policies.${i}.role`)(`"${extra.role}" is not a configured role`);
        continue;
      }
      // STUPS appends the statement to the role's inline policy.
      const base = role.policy ?? { Version: '2012-10-17', Statement: [] };
      roles[extra.role] = {
        ...role,
        policy: { ...base, Statement: [...statements(base).flat(), extra.statement] },
      };
    }
    for (const [i, extra] of (templated.additional_attached_policies ?? []).entries()) {
      const role = roles[extra.role];
      if (!role) {
        problem(`additional_attached_policies.${i}.role`)(`"${extra.role}" is not a configured role`);
        continue;
      }
      roles[extra.role] = {
        ...role,
        attached_policies: [...new Set([...role.attached_policies, ...extra.policies])],
      };
    }
    for (const region of Object.keys(templated.vpc_net ?? {})) {
      if (templated.regions && !templated.regions.includes(region)) {
        problem(`vpc_net.${region}`)(
          `region is not one of the account's regions (${templated.regions.join(', ')})`,
        );
      }
    }
    accounts.push({
      ...templated,
      ...(templated.roles ? { roles } : {}),
      name,
      id: id ?? '',
      alias: templated.alias ?? name,
      environment: templated.environment ?? 'production',
      regions: templated.regions ?? [],
      admin_account: templated.admin_account ?? '',
      login_role: templated.login_role ?? DEFAULT_LOGIN_ROLE,
    });
  }
  if (problems.length) throw new ConfigProblems(problems);
  return { accounts };
}

/**
 * STUPS patterns are Unix globs (`fnmatch`): `*`, `?`, `[abc]`, `[!abc]`; minimatch speaks that
 * dialect (and braces, `{a,b}`). Account names hold no `/` or leading dot, so its path rules
 * never apply.
 */
export function accountPattern(pattern: string): Minimatch {
  return new Minimatch(pattern, { dot: true });
}

/** Accounts matching any pattern, in file order; a pattern matching nothing is an error. */
export function selectAccounts(
  accounts: readonly AccountConfig[],
  patterns: readonly string[],
): AccountConfig[] {
  const matchers = patterns.map(accountPattern);
  const unmatched = matchers.filter((m) => !accounts.some((a) => m.match(a.name)));
  if (unmatched.length) {
    throw new ConfigProblems(unmatched.map((m) => `pattern "${m.pattern}": matches no account of the file`));
  }
  return accounts.filter((a) => matchers.some((m) => m.match(a.name)));
}
