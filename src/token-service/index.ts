/**
 * The token service (OAuth2/OIDC authorization server). Wiring in `stups up`:
 *
 *   await migrateToLatest(db, [..., { component: 'token-service', migrations: tokenServiceMigrations }]);
 *   const tokens = createTokenService(ctx, { users, config });
 *   ctx.verifier.trust(tokens.trustedIssuer);   // + isRevoked: tokens.isRevoked for the verifier
 *   const app = await tokens.createApp(); await tokens.start(); … await tokens.stop();
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
