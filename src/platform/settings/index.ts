export { envSegment, envVariableFor, settingsFromEnv } from './env-overrides.js';
export { mergeSettings } from './merge.js';
export { REDACTED, redactSecrets } from './redact.js';
export {
  objectShape,
  secret,
  secretSettings,
  type SettingLeaf,
  settingLeaves,
  typeName,
  unwrap,
} from './schema-walk.js';
export { renderSettingsDocs } from './settings-docs.js';
