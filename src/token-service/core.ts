import type { GuessThrottle } from '../platform/auth/guess-throttle.js';
import type { Logger } from '../platform/logger.js';
import type { UserDirectory } from '../users/contract.js';
import type { TokenServiceAudit } from './audit.js';
import type { AuthorizationCodeStore } from './authorization-code-store.js';
import type { ClientStore } from './client-store.js';
import type { ResolvedTokenServiceConfig } from './config.js';
import type { DeviceCodeStore } from './device-code-store.js';
import type { KeyStore } from './key-store.js';
import type { RefreshTokenStore } from './refresh-token-store.js';
import type { RevocationStore } from './revocation-store.js';
import type { ServiceUserStore } from './service-user-store.js';
import type { SessionStore } from './session-store.js';
import type { TokenInspector } from './token-inspector.js';
import type { TokenMinter } from './token-minter.js';
import type { Kysely } from 'kysely';
import type { TokenServiceTables } from './tables.js';

/** Everything the protocol modules share; built once by `createTokenService`. */
export interface TokenServiceCore {
  /** `iss` of every token: the service's public base URL. */
  issuer: string;
  /** `aud` of access tokens for this installation's own services (`accessTokenAudience` or the issuer). */
  audience: string;
  config: ResolvedTokenServiceConfig;
  now: () => number;
  logger: Logger;
  /** `audit(trx, …)` inside the transaction of a change; `audit.standalone` for refusals. */
  audit: TokenServiceAudit;
  /** For transactions that span stores (spending a code or refresh token and storing the new one). */
  db: Kysely<TokenServiceTables>;
  users: UserDirectory;
  clients: ClientStore;
  serviceUsers: ServiceUserStore;
  keys: KeyStore;
  codes: AuthorizationCodeStore;
  refreshTokens: RefreshTokenStore;
  devices: DeviceCodeStore;
  revocations: RevocationStore;
  /** Sign-in sessions of employees (single sign-on at the authorization endpoint). */
  sessions: SessionStore;
  minter: TokenMinter;
  inspector: TokenInspector;
  /** Counts failed logins per account (`<realm>/<username>`) and source address. */
  logins: GuessThrottle;
}
