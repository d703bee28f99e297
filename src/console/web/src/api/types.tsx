/*
 * The wire shapes the console reads. Where a service publishes a contract, these are its types,
 * imported as types only: they vanish from the bundle, so no zod reaches the page, and a change
 * to a contract breaks the console's type check instead of its users.
 */
import type {
  ResourceType,
  ResourceTypePermission,
  ResourceTypeSummary,
  Scope,
} from '../../../../essentials/contract.js';
import type {
  Application as KioApplication,
  ApplicationChange,
  ApplicationDetail,
  ApplicationSearchHit,
} from '../../../../kio/contract.js';
import type { AccessRequest, AccessRequestStatus } from '../../../../even/contract.js';
import type { DeletedTag, ScmSource, Tag } from '../../../../pierone/contract.js';
import type { TeamUsageView as TeamUsage } from '../../../../pierone/quota-contract.js';
import type {
  RetentionPlanView as RetentionPlan,
  RetentionRuleView as RetentionRule,
} from '../../../../pierone/retention/rule.js';
import type { AwsAccount, Team as TeamDetail } from '../../../../teams/contract.js';
import type { User } from '../../../../users/contract.js';
import type { AuditRecord } from '../../../../platform/audit/audit-log.js';
import type { MintApp, MintAppPut, MintAppSummary, ScopeRef } from '../../../../mint/contract.js';
import type { Violation, ViolationPage, ViolationType } from '../../../../fullstop/contract.js';
import type { TrendDay } from '../../../../fullstop/trend.js';

export type {
  AccessRequest,
  AccessRequestStatus,
  ApplicationChange,
  AwsAccount,
  DeletedTag,
  MintApp,
  MintAppPut,
  MintAppSummary,
  ScopeRef,
  ResourceType,
  ResourceTypePermission,
  ResourceTypeSummary,
  RetentionPlan,
  RetentionRule,
  Scope,
  ScmSource,
  Tag,
  TeamDetail,
  TeamUsage,
  TrendDay,
  User,
  Violation,
  ViolationPage,
  ViolationType,
};

/**
 * One AWS role of the signed-in person (`GET /aws/roles` of the token service; its contract is
 * `AwsRoleSchema` in token-service/aws/routes.ts, which pulls server types in, so it is restated here).
 */
export interface AwsRole {
  account_id: string;
  account_name: string | null;
  team: string | null;
  role_name: string;
  role_arn: string;
  provider_arn: string;
  /** Signing in with it needs a reason (production accounts); the reason is audited. */
  reason_required: boolean;
}

/** One registered SSH public key of an employee (`GET /employees/{uid}/ssh-keys`). */
export interface SshKey {
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  public_key: string;
  created: string;
}

/** An application as listed, shown (with `required_approvers`) or found (with rank and snippet). */
export type Application = KioApplication &
  Partial<Pick<ApplicationDetail, 'required_approvers'>> &
  Partial<Pick<ApplicationSearchHit, 'matched_rank' | 'matched_description'>>;

/* Not (yet) a published contract type: the team summary of `GET /teams` and OIDC userinfo. */
export interface Team {
  id: string;
  name: string;
  type?: string;
  description?: string | null;
}

export interface UserInfo {
  sub: string;
  name?: string;
  email?: string;
  preferred_username?: string;
}

/** The parts of an OCI/Docker image manifest (or index) the image page shows. */
export interface ImageManifest {
  mediaType?: string;
  config?: { size: number; digest: string };
  layers?: { size: number; digest: string; mediaType?: string }[];
  /** An index (several platforms) lists manifests instead of layers. */
  manifests?: { digest: string; size: number; platform?: { os?: string; architecture?: string } }[];
}

/** One event of the platform's audit log (`GET /audit-events` of the team service, administrators only). */
export type AuditEvent = AuditRecord;

/** The filters of the audit log; `before` is the id of the last event of the previous page. */
export interface AuditQuery {
  actor?: string;
  service?: string;
  action?: string;
  from?: string;
  to?: string;
  before?: string;
  limit?: number;
}

/** `GET /api/violations` filters as the console sends them (lists comma-separated). */
export interface ViolationQuery {
  accounts?: string;
  type?: string;
  severity?: string;
  checked?: boolean;
  from?: string;
  to?: string;
  page?: number;
  size?: number;
  sort?: string;
}

/*
 * fullstop's risk acceptances, as the contract in the fullstop briefs describes them (the API is
 * built in parallel; no published contract type yet).
 */
export interface RiskAcceptanceCriteria {
  accounts?: string[];
  regions?: string[];
  /** Violation type ids. */
  types?: string[];
  /** A regular expression over the image name. */
  image_name?: string;
  /** The AMI owner's account. */
  image_owner?: string;
  application_id?: string;
  application_version?: string;
  /** A JSONPath filter that must match the violation's meta_info, e.g. `$[?(@.port == 443)]`. */
  meta_info?: string;
}

export interface RiskAcceptance {
  id: number;
  criteria: RiskAcceptanceCriteria;
  reason: string;
  team: string;
  created: string;
  created_by: string;
  expires: string;
  expired_at: string | null;
  expired_by: string | null;
  status: 'active' | 'expired';
  covered_violations: number;
}

export interface NewRiskAcceptance {
  criteria: RiskAcceptanceCriteria;
  reason: string;
  team: string;
  expires: string;
}

export interface RiskAcceptanceDryRun {
  matching: number;
  /** Up to 20 of the matching violations. */
  sample: Violation[];
}
