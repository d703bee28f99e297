export * from './blob-store.js';
export * from './filesystem-blob-store.js';
export { digestOf } from './hashing.js';
export * from './s3-blob-store.js';
export * from './upload-parts.js';
export * from './upload-sessions.js';
export * from './chunked-uploads.js';
