import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';

/** Seconds in-flight requests get to finish when a service stops, before their connections are cut. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * Makes a stopping server let go of its connections instead of waiting for clients to leave.
 *
 * Node's `server.close()` waits for every connection to end, and it closes only keep-alive
 * connections that are between requests. A connection that was opened and never sent a byte (a
 * browser's preconnect, a load balancer's TCP check, a port scanner) counts as busy until its
 * idle bound (90 s by default) runs out, so one such socket holds the whole shutdown that long.
 * This drains instead: the moment closing starts, every connection without a request in flight
 * is destroyed; requests in flight finish for at most `graceMs`, then whatever is left is cut.
 * Their answers should say `Connection: close` (an onSend hook that reads `draining`); Fastify
 * answers new requests on those connections with 503.
 *
 * Call it with the app's server before the app closes; `beginDrain` goes in a preClose hook.
 */
export function connectionDrain(
  server: HttpServer,
  options: { tls: boolean; graceMs: number },
): { beginDrain(): void; readonly draining: boolean } {
  // Sockets that carry HTTP, each with its number of requests in flight. Under TLS those are the
  // TLS sockets; the TCP sockets below them (and those still in the handshake) are in `transport`.
  const inFlight = new Map<Socket, number>();
  const transport = new Set<Socket>();
  let closing = false;

  const track = (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
    if (closing) socket.destroy();
  };
  if (options.tls) {
    server.on('connection', (socket: Socket) => {
      transport.add(socket);
      socket.once('close', () => transport.delete(socket));
    });
    server.on('secureConnection', track);
  } else {
    server.on('connection', track);
  }

  server.on('request', (request: { socket: Socket }, response: { once(e: 'close', f: () => void): void }) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (!inFlight.has(socket)) return;
      inFlight.set(socket, left);
      // The answer went out with `Connection: close`; a client that keeps the socket open anyway
      // must not hold the shutdown.
      if (closing && left === 0) socket.destroy();
    });
  });

  return {
    get draining() {
      return closing;
    },
    beginDrain() {
      if (closing) return;
      closing = true;
      for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
      // Under TLS a silent TCP connection has no TLS socket yet, and Node names no link from one
      // to the other: it is cut at the deadline with the rest.
      const deadline = setTimeout(() => {
        for (const socket of inFlight.keys()) socket.destroy();
        for (const socket of transport) socket.destroy();
      }, options.graceMs);
      deadline.unref();
      server.once('close', () => clearTimeout(deadline));
    },
  };
}
