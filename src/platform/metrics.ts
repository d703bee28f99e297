import { collectDefaultMetrics, Registry } from 'prom-client';
import { CacheLookupCounter } from './cache/lookup-counter.js';
import { HttpDurationHistogram } from './http-duration-histogram.js';

/** Metrics of one process; every HTTP app in the process reports into it. */
export interface Metrics {
  registry: Registry;
  /** Request duration by service, method, route template and status (`observe` once per request). */
  httpDuration: HttpDurationHistogram;
  /** Lookups of the in-memory caches (src/platform/cache) by cache name and hit/miss. */
  cacheLookups: CacheLookupCounter;
}

/** Upper bounds of the request duration buckets, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const httpDuration = new HttpDurationHistogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by service, route template and status',
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  const cacheLookups = new CacheLookupCounter([registry]);
  return { registry, httpDuration, cacheLookups };
}
