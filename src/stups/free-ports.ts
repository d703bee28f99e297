import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';

/** Ports the OS says are free right now (for tests and `--base-port 0`). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * The lowest port the OS hands out by itself (`listen(0)`, outgoing connections). Blocks are
 * chosen below it, so that no other program gets one of their ports between the check and
 * the moment the platform binds them.
 */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A base port whose next `count` ports are all free right now (for `stups up` in tests). */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  const low = 10_000;
  const high = ephemeralRangeStart() - count;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low));
    const servers: Server[] = [];
    try {
      for (let port = base; port < base + count; port++) {
        servers.push(
          await new Promise((resolve, reject) => {
            const server = createServer();
            server.once('error', reject);
            server.listen(port, host, () => resolve(server));
          }),
        );
      }
      return base;
    } catch {
      // Taken: try another block.
    } finally {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    }
  }
  throw new Error(`no block of ${count} free ports found`);
}
