export { PushAccess, SCOPES } from './access.js';
export {
  DEFAULT_PIERONE_CONFIG,
  type PierOneConfig,
  PierOneConfigSchema,
  parsePierOneConfig,
} from './config.js';
export * from './contract.js';
export { pieroneMigrations } from './migrations.js';
export { createPierOneService, type PierOneDeps, type PierOneService } from './service.js';
export { PierOneStore } from './store.js';
