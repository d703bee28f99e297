import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HttpDurationHistogram } from './http-duration-histogram.js';
import { HTTP_DURATION_BUCKETS } from './metrics.js';

const HELP = 'HTTP request duration by service, route template and status';

/** The same observations into ours and into prom-client's, each in a registry of its own. */
function both(openMetrics = false) {
  const ours = new Registry<RegistryContentType>();
  const reference = new Registry<RegistryContentType>();
  if (openMetrics) {
    ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    reference.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  }
  const histogram = new HttpDurationHistogram({
    name: 'http_request_duration_seconds',
    help: HELP,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [ours],
  });
  const promHistogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: HELP,
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [reference],
  });
  const observe = (service: string, method: string, route: string, status: number, seconds: number) => {
    histogram.observe(service, method, route, status, seconds);
    promHistogram.observe({ service, method, route, status: String(status) }, seconds);
  };
  return { ours, reference, histogram, promHistogram, observe };
}

function observeMany(observe: ReturnType<typeof both>['observe']): void {
  const routes = ['/oauth2/tokeninfo', '/apps/:id', 'unmatched', '/odd/"quoted"\\back\nslash'];
  const seconds = [0, 0.0004, 0.001, 0.0010001, 0.005, 0.07, 0.1, 1, 2.5, 9.99, 10, 10.5, 1e-9, 123.456];
  let n = 0;
  for (let round = 0; round < 3; round++) {
    for (const route of routes) {
      for (const [method, status] of [
        ['GET', 200],
        ['POST', 401],
        ['PUT', 500],
        ['GET', 404],
      ] as const) {
        observe(
          n % 5 === 0 ? 'Kio' : 'STUPS Token Service',
          method,
          route,
          status,
          seconds[n % seconds.length]!,
        );
        n++;
      }
    }
  }
}

describe('HttpDurationHistogram', () => {
  it('prints the same /metrics text as a prom-client Histogram of the same observations, byte for byte', async () => {
    const { ours, reference, observe } = both();
    expect(await ours.metrics()).toBe(await reference.metrics());
    observeMany(observe);
    const text = await ours.metrics();
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.001",service="STUPS Token Service",method="GET",route="/oauth2/tokeninfo",status="200"}',
    );
    expect(text).toBe(await reference.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it('prints the same OpenMetrics text, and the same after a reset', async () => {
    const { ours, reference, observe } = both(true);
    observeMany(observe);
    expect(await ours.metrics()).toBe(await reference.metrics());
    ours.resetMetrics();
    reference.resetMetrics();
    expect(await ours.metrics()).toBe(await reference.metrics());
    observe('Kio', 'GET', '/apps/:id', 200, 0.003);
    expect(await ours.metrics()).toBe(await reference.metrics());
  });

  it('refuses a duration that is not a number, as prom-client does', () => {
    const { histogram } = both();
    expect(() => histogram.observe('Kio', 'GET', '/apps', 200, Number.NaN)).toThrow(TypeError);
  });
});
