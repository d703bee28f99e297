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

/** A base port whose next `count` ports are all free right now (for `stups up` in tests). */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
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
