import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postIncident } from './incident-webhook.js';
import type { BudgetAlertException } from '../spend/daily-check.js';

const exception: BudgetAlertException = {
  accountId: '111111111111',
  kind: 'unusual-daily-spend',
  day: '2026-11-20',
  amount: 80,
  threshold: 20,
  message: 'spike',
};

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

function start(statuses: number[]): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  return new Promise((resolve) =>
    server!.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook/SECRET`, bodies }),
    ),
  );
}

describe('incident webhook', () => {
  it('retries 5xx with back-off, then delivers the exception as JSON', async () => {
    const { url, bodies } = await start([503, 500, 200]);
    const delays: number[] = [];
    await postIncident(url, exception, { sleep: async (ms) => void delays.push(ms), backoffMs: 10 });
    expect(bodies).toEqual([exception, exception, exception]);
    expect(delays).toEqual([10, 20]);
  });

  it('gives up on a 4xx without retrying and keeps the URL out of the error', async () => {
    const { url, bodies } = await start([404]);
    const err = (await postIncident(url, exception, { sleep: async () => {} }).then(
      () => new Error('postIncident resolved; it must reject on a 404'),
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toBe('incident webhook failed: HTTP 404');
    expect(err.message).not.toContain('SECRET');
    expect(bodies).toHaveLength(1);
  });
});
