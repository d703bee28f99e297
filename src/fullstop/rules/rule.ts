import type { AccessGrantDirectory } from '../../even/contract.js';
import type { ApplicationDirectory } from '../../kio/contract.js';
import type { ImageTagDirectory } from '../../pierone/contract.js';
import type { SshLogin } from '../audit-log.js';
import type { CloudTrailRecord } from '../cloudtrail.js';
import type { ViolationType } from '../contract.js';
import type { RuleSettings } from '../settings.js';
import type { AccountAwsClients, InstanceCatalog, SubnetCatalog } from '../aws/account-clients.js';
import type { ImageCatalog } from '../aws/images.js';
import type { TaupageUserData } from '../user-data.js';

/** A violation type and what its `meta_info` holds. */
export interface ViolationTypeDefinition extends ViolationType {
  meta_info_keys: readonly string[];
}

/** What a rule found; the pipeline adds account, region, event id and owner. */
export interface Finding {
  type: string;
  instanceId?: string | null | undefined;
  metaInfo?: Record<string, unknown> | undefined;
  applicationId?: string | null | undefined;
  applicationVersionId?: string | null | undefined;
  /** Replaces the pipeline's event id when one input holds several events (SSH logins of a log). */
  eventId?: string | undefined;
  /** Replaces the pipeline's event time likewise (the login's time). */
  eventTime?: Date | undefined;
}

/** What rules may read besides the event: settings and the look-ups the platform offers. */
export interface RuleContext {
  settings: RuleSettings;
  /** AMIs of the account the event happened in. */
  images: ImageCatalog;
  /** Kio. */
  applications: Pick<ApplicationDirectory, 'getApplication'>;
  /** Pier One: the tags instances run, their scm-source and provenance. */
  imageTags: ImageTagDirectory;
  /** even: who was granted SSH access where and when. */
  accessGrants: AccessGrantDirectory;
  /**
   * Subnets of the event's account (EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP). Optional so that a
   * context built for other rules needs no AWS; the rule fails when it needs it and it is missing.
   */
  subnets?: SubnetCatalog | undefined;
  /**
   * Instances as EC2 describes them now: a StartInstances record names only their ids. Same as
   * `subnets`: the instance rules fail on a StartInstances record when it is missing.
   */
  instances?: InstanceCatalog | undefined;
  /** Whether an account is one of the platform's: owned by a team (CROSS_ACCOUNT_ROLE). Same as `subnets`. */
  accounts?: PlatformAccounts | undefined;
}

export interface PlatformAccounts {
  isPlatformAccount(account: string): Promise<boolean>;
}

/** A rule over one CloudTrail record. */
export interface EventRule {
  kind: 'event';
  type: ViolationTypeDefinition;
  check(record: CloudTrailRecord, account: string, ctx: RuleContext): Promise<Finding[]>;
}

/** The instance a Taupage user data document describes. */
export interface InstanceRef {
  account: string;
  region: string;
  instanceId: string;
}

/** A rule over the user data an instance reported (`POST /api/instance-logs`, USER_DATA). */
export interface UserDataRule {
  kind: 'user-data';
  type: ViolationTypeDefinition;
  check(userData: TaupageUserData, instance: InstanceRef, ctx: RuleContext): Promise<Finding[]>;
}

/** A rule over the SSH logins of an instance's audit log (`POST /api/instance-logs`, AUDIT_LOG). */
export interface AuditLogRule {
  kind: 'audit-log';
  type: ViolationTypeDefinition;
  check(logins: readonly SshLogin[], instance: InstanceRef, ctx: RuleContext): Promise<Finding[]>;
}

/** What a periodic check found; `resource` names what it is about, for its stable event id. */
export interface PeriodicFinding extends Finding {
  resource: string;
}

/** Where a periodic check looks: one account in one region, read through that account's clients. */
export interface PeriodicScope {
  account: string;
  /** The region; IAM checks (`global`) run once per account with `GLOBAL_REGION`. */
  region: string;
  clients: AccountAwsClients;
  settings: RuleSettings;
  /**
   * Which accounts are the platform's: every account of the team service (those the checks
   * watch, disabled ones too). `rules.trustedAccounts` are in `settings` (CROSS_ACCOUNT_ROLE).
   */
  accounts: PlatformAccounts;
  now: Date;
}

/** The region STUPS stores account-wide (IAM) findings under. */
export const GLOBAL_REGION = 'no-region';

/** A check run as a job over every platform account (and region), not over an event. */
export interface PeriodicRule {
  kind: 'periodic';
  type: ViolationTypeDefinition;
  /** Names the job (`fullstop.periodic.<name>`) and its settings (`fullstop.periodic.checks`). */
  name:
    | 'outdated-taupage'
    | 'unsecured-public-endpoint'
    | 'active-key-too-old'
    | 'unsecured-root-user'
    | 'cross-account-role';
  /** Account-wide (IAM): run once per account instead of once per region. */
  global: boolean;
  check(scope: PeriodicScope): Promise<PeriodicFinding[]>;
}

export type Rule = EventRule | UserDataRule | AuditLogRule | PeriodicRule;

/** A type definition, with STUPS' defaults: not audit relevant. */
export function violationType(
  t: Omit<ViolationTypeDefinition, 'audit_relevant'> & { audit_relevant?: boolean },
): ViolationTypeDefinition {
  return { audit_relevant: false, ...t };
}
