import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Metrics of one process; every HTTP app in the process reports into it. */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'service' | 'method' | 'route' | 'status'>;
  /** Lookups of the in-memory caches (src/platform/cache) by cache name and hit/miss. */
  cacheLookups: Counter<'cache' | 'result'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by service, route template and status',
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const cacheLookups = new Counter({
    name: 'cache_lookups_total',
    help: 'Lookups of in-memory caches by cache name and result (hit or miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, cacheLookups };
}
