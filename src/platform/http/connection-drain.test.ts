import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { createHttpApp, type HttpApp } from './create-http-app.js';

async function listeningApp(shutdownGraceMs?: number) {
  const app = await createHttpApp({
    title: 'Drain test',
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
    ...(shutdownGraceMs === undefined ? {} : { shutdownGraceMs }),
  });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started: () => void = () => undefined;
  const handlerStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  app.get('/slow', async () => {
    started();
    await released;
    return { done: true };
  });
  app.get('/fast', async () => ({ ok: true }));
  // Runs after the drain's own preClose hook (hooks run in the order they were added).
  let closingStarted: () => void = () => undefined;
  const drainBegun = new Promise<void>((resolve) => {
    closingStarted = resolve;
  });
  app.addHook('preClose', async () => closingStarted());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  return { app, port: address.port, release, handlerStarted, drainBegun };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** Sends one keep-alive request on a raw socket and resolves with the head of the answer. */
function rawGet(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(answer);
      }
    };
    socket.on('data', onData);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  });
}

async function closeWith(app: HttpApp): Promise<'closed'> {
  await app.close();
  return 'closed';
}

describe('stopping a service with connections open', () => {
  it('closes a connection that never sent a byte and an idle keep-alive one at once', async () => {
    // The idle bound is 90 s; without the drain, close() would wait that long for both.
    const { app, port } = await listeningApp();
    const silent = await openSocket(port);
    const keptAlive = await openSocket(port);
    expect(await rawGet(keptAlive, '/fast')).toMatch(/^HTTP\/1\.1 200/);

    expect(await closeWith(app)).toBe('closed');
    await Promise.all([closed(silent), closed(keptAlive)]);
    expect(silent.destroyed && keptAlive.destroyed).toBe(true);
  });

  it('lets a request in flight finish, answered with Connection: close', async () => {
    const { app, port, release, handlerStarted, drainBegun } = await listeningApp();
    const answer = new Promise<{ status: number; connection: string | undefined; body: string }>(
      (resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, path: '/slow' }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, body }),
          );
        });
        request.on('error', reject);
        request.end();
      },
    );
    await handlerStarted;
    const closing = closeWith(app);
    await drainBegun;
    release();
    expect(await answer).toEqual({ status: 200, connection: 'close', body: '{"done":true}' });
    expect(await closing).toBe('closed');
  });

  it('cuts a request that outlasts the grace period', async () => {
    const { app, port, release, handlerStarted } = await listeningApp(200);
    const socket = await openSocket(port);
    socket.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await handlerStarted;
    expect(await closeWith(app)).toBe('closed');
    await closed(socket);
    expect(socket.destroyed).toBe(true);
    release();
  });
});
