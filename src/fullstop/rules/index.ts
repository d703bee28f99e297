import { PERIODIC_RULES } from '../periodic/index.js';
import { applicationInactiveInKio } from './application-inactive-in-kio.js';
import { applicationNotPresentInKio } from './application-not-present-in-kio.js';
import { applicationVersionDoesNotMatchImageTag } from './application-version-does-not-match-image-tag.js';
import { artifactBuiltFromDirtyRepository } from './artifact-built-from-dirty-repository.js';
import { cloudtrailLoggingStopped } from './cloudtrail-logging-stopped.js';
import { crossAccountRole } from './cross-account-role.js';
import { ec2InInternalSubnetWithPublicIp } from './ec2-in-internal-subnet-with-public-ip.js';
import { ec2WithASnapshotImage } from './ec2-with-a-snapshot-image.js';
import { ec2WithKeypair } from './ec2-with-keypair.js';
import { illegalScmRepository } from './illegal-scm-repository.js';
import { imageDeletedFromPierone } from './image-deleted-from-pierone.js';
import { imageInPieroneNotFound } from './image-in-pierone-not-found.js';
import { imageWithoutProvenance } from './image-without-provenance.js';
import { lambdaFunctionCreatedFromUntrustedLocation } from './lambda-function-created-from-untrusted-location.js';
import { missingApplicationIdInUserData } from './missing-application-id-in-user-data.js';
import { missingSourceInUserData } from './missing-source-in-user-data.js';
import { missingUserData } from './missing-user-data.js';
import { modifiedRoleOrService } from './modified-role-or-service.js';
import { passwordUsed } from './password-used.js';
import type {
  AuditLogRule,
  EventRule,
  PeriodicRule,
  Rule,
  UserDataRule,
  ViolationTypeDefinition,
} from './rule.js';
import { scmSourceJsonMissing } from './scm-source-json-missing.js';
import { scmUrlIsMissingInKio } from './scm-url-is-missing-in-kio.js';
import { scmUrlIsMissingInScmSourceJson } from './scm-url-is-missing-in-scm-source-json.js';
import { scmUrlNotMatchWithKio } from './scm-url-not-match-with-kio.js';
import { securityGroupOpenToTheWorld } from './security-group-open-to-the-world.js';
import { sshLoginWithoutGrant } from './ssh-login-without-grant.js';
import { wrongAmi } from './wrong-ami.js';
import { wrongRegion } from './wrong-region.js';

export type {
  AuditLogRule,
  EventRule,
  Finding,
  PeriodicRule,
  Rule,
  RuleContext,
  UserDataRule,
  ViolationTypeDefinition,
} from './rule.js';

/** Every rule fullstop runs. A new rule is one file and one line here. */
export const RULES: readonly Rule[] = [
  wrongRegion,
  ec2WithKeypair,
  wrongAmi,
  missingUserData,
  missingApplicationIdInUserData,
  missingSourceInUserData,
  applicationNotPresentInKio,
  ec2WithASnapshotImage,
  modifiedRoleOrService,
  passwordUsed,
  cloudtrailLoggingStopped,
  securityGroupOpenToTheWorld,
  // The platform's own data: Pier One, Kio, even.
  imageInPieroneNotFound,
  imageDeletedFromPierone,
  scmSourceJsonMissing,
  scmUrlIsMissingInScmSourceJson,
  artifactBuiltFromDirtyRepository,
  illegalScmRepository,
  scmUrlIsMissingInKio,
  scmUrlNotMatchWithKio,
  imageWithoutProvenance,
  applicationInactiveInKio,
  applicationVersionDoesNotMatchImageTag,
  sshLoginWithoutGrant,
  lambdaFunctionCreatedFromUntrustedLocation,
  ec2InInternalSubnetWithPublicIp,
  crossAccountRole,
  ...PERIODIC_RULES,
];

export const EVENT_RULES: readonly EventRule[] = RULES.filter((r): r is EventRule => r.kind === 'event');
export const USER_DATA_RULES: readonly UserDataRule[] = RULES.filter(
  (r): r is UserDataRule => r.kind === 'user-data',
);
export const AUDIT_LOG_RULES: readonly AuditLogRule[] = RULES.filter(
  (r): r is AuditLogRule => r.kind === 'audit-log',
);

export const PERIODIC_CHECKS: readonly PeriodicRule[] = RULES.filter(
  (r): r is PeriodicRule => r.kind === 'periodic',
);

/** Every violation type fullstop knows, by id: those its rules emit. */
export const VIOLATION_TYPES: ReadonlyMap<string, ViolationTypeDefinition> = new Map(
  RULES.map((r) => [r.type.id, r.type]),
);
