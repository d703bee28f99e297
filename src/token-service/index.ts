/**
 * The token service (OAuth2/OIDC authorization server). `stups up` wires it through
 * `tokenServiceModule` (module.ts): the app, the issuer every verifier trusts, and the
 * `token-service.maintenance` job the kernel's job runner runs.
 */
export {
  type ResolvedTokenServiceConfig,
  resolveTokenServiceConfig,
  type TokenServiceConfig,
  TokenServiceConfigSchema,
} from './config.js';
export * from './contract.js';
export { tokenServiceMigrations } from './migrations.js';
export { OAuthError, type OAuthErrorCode } from './oauth-error.js';
export { createTokenService, type TokenService, type TokenServiceDeps } from './token-service.js';
