export { type Actor, type PierOneAudit, PUSH_RULE, PushAccess, SCOPES } from './access.js';
export {
  DEFAULT_PIERONE_CONFIG,
  type PierOneConfig,
  PierOneConfigSchema,
  parsePierOneConfig,
} from './config.js';
export * from './contract.js';
export { PIERONE_EVENTS, type PierOneEvent } from './events.js';
export { PierOneImageTags } from './image-tags.js';
export { Manifests } from './manifests.js';
export { pieroneMigrations } from './migrations.js';
export {
  ABANDONED_UPLOAD_MS,
  createPierOneService,
  type PierOneDeps,
  type PierOneService,
} from './service.js';
export { PierOneStore } from './store.js';
export { BlobUploads, type UploadPurgeResult } from './uploads.js';
