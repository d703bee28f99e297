import type { PeriodicRule } from '../rules/rule.js';
import { activeKeyTooOld } from './active-key-too-old.js';
import { crossAccountRole } from './cross-account-role.js';
import { outdatedTaupage } from './outdated-taupage.js';
import { unsecuredPublicEndpoint } from './unsecured-public-endpoint.js';
import { unsecuredRootUser } from './unsecured-root-user.js';

/** The checks run as jobs over every platform account; one file each, one line here. */
export const PERIODIC_RULES: readonly PeriodicRule[] = [
  outdatedTaupage,
  unsecuredPublicEndpoint,
  activeKeyTooOld,
  unsecuredRootUser,
  crossAccountRole,
];
