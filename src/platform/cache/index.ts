export { Cache, type CacheLookups, type CacheOptions } from './cache.js';
