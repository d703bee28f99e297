// The S3 store is imported from './s3-blob-store.js' where S3 is configured (Pier One's module
// imports it on demand): through this index it loaded the S3 client into every process.
export * from './blob-store.js';
export * from './filesystem-blob-store.js';
export { digestOf } from './hashing.js';
export * from './upload-parts.js';
export * from './upload-sessions.js';
export * from './chunked-uploads.js';
