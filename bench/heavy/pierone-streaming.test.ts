import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const GiB = 1024 * 1024 * 1024;
const SIZE = 2 * GiB;
const HEAP_MB = 96;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** Streams `size` bytes of generated data as the request body; nothing is kept in memory. */
function send(url: string, method: string, token: string, size: number, onChunk: (c: Buffer) => void) {
  return new Promise<Answer>((resolve, reject) => {
    const block = randomBytes(1024 * 1024);
    const req = request(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': String(size),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(block.length, size - sent);
        // Vary the data so the blob is not one block repeated.
        block.writeUInt32BE(sent / block.length, 0);
        const chunk = Buffer.from(block.subarray(0, n));
        onChunk(chunk);
        sent += n;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function fetchHash(url: string, token: string): Promise<{ status: number; digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, digest: `sha256:${hash.digest('hex')}`, size }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Pier One streams blobs with bounded memory', () => {
  let child: ChildProcessWithoutNullStreams;
  let lines: Interface;
  let next: () => Promise<string>;
  let url: string;
  let token: string;

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', 'src/pierone/test-support/serve-registry.ts'],
      { cwd: process.cwd(), stdio: 'pipe' },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    next = async () => {
      const line = await iterator.next();
      if (line.done) throw new Error(`the registry process ended: ${stderr}`);
      return line.value;
    };
    ({ url, token } = JSON.parse(await next()));
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.write('exit\n');
      await exited;
    }
  });

  it(`pushes and pulls a 2 GiB blob through the HTTP API with a ${HEAP_MB} MB heap`, async () => {
    const start = await new Promise<Answer>((resolve, reject) => {
      const req = request(`${url}/v2/stups/big/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      req.on('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
      req.on('error', reject);
      req.end();
    });
    expect(start.status).toBe(202);
    const location = start.headers.location as string;

    const hash = createHash('sha256');
    const patch = await send(`${url}${location}`, 'PATCH', token, SIZE, (c) => hash.update(c));
    expect(patch.status).toBe(202);
    expect(patch.headers.range).toBe(`0-${SIZE - 1}`);
    const digest = `sha256:${hash.digest('hex')}`;
    const put = await send(`${url}${location}?digest=${digest}`, 'PUT', token, 0, () => {});
    expect(put.status).toBe(201);

    const pulled = await fetchHash(`${url}/v2/stups/big/blobs/${digest}`, token);
    expect(pulled).toEqual({ status: 200, digest, size: SIZE });

    child.stdin.write('report\n');
    const { peak, baseline } = JSON.parse(await next());
    // Buffers live outside the V8 heap, so the heap limit alone proves little: the resident
    // set must not grow with the blob either (2 GiB buffered would be far beyond this).
    expect(peak.rss - baseline.rss).toBeLessThan(256 * 1024 * 1024);
    // PGlite's WebAssembly memory is an ArrayBuffer present from the start: count growth only.
    expect(peak.arrayBuffers - baseline.arrayBuffers).toBeLessThan(128 * 1024 * 1024);
    console.info(
      `2 GiB round trip: peak RSS growth ${((peak.rss - baseline.rss) / 2 ** 20).toFixed(0)} MiB, ` +
        `peak heap ${(peak.heapUsed / 2 ** 20).toFixed(0)} MiB`,
    );
  }, 240_000);
});
