/**
 * Replicas behind HAProxy (issue 22): throughput of Kio reads, tokeninfo and Pier One manifest
 * GETs with 3, 2 and 1 replicas of each service behind the load balancer, and the latency the
 * load-balancer hop adds (one replica, direct vs through HAProxy). Real `stups serve` processes
 * on the machine's PostgreSQL and s3rver (test/deploy/replicas-harness.ts); wrk as the client.
 *
 * On a 2-core machine the replicas, HAProxy and wrk share the same two cores: more replicas show
 * the cost of the extra processes and the hop, not scaling. Both ratios are printed.
 *
 *   npx tsx bench/replicas.ts        (needs PostgreSQL on 127.0.0.1:5432, haproxy and wrk)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { haproxyMissing, type ReplicaHarness, startReplicas } from '../test/deploy/replicas-harness.js';
import { isPostgresAvailable } from '../src/platform/test-support/databases.js';

const SECONDS = Number(process.env.REPLICAS_BENCH_SECONDS ?? 5);
const CONNECTIONS = 16;

interface WrkResult {
  rate: number;
  /** Mean latency in milliseconds. */
  latencyMs: number;
}

/** Untimed requests first: JIT and caches of every replica warm before a row is measured. */
async function warm(url: string, authorization: string, accept?: string): Promise<void> {
  await wrk(url, authorization, CONNECTIONS, accept, 2);
}

async function wrk(
  url: string,
  authorization: string,
  connections: number,
  accept?: string,
  seconds = SECONDS,
): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '-H', `Authorization: ${authorization}`];
  if (accept) args.push('-H', `Accept: ${accept}`);
  const child = spawn('wrk', [...args, url]);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve());
  });
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? 0);
  const latency = /Latency\s+([\d.]+)(us|ms|s)\b/.exec(output);
  if (!rate || !latency || /Non-2xx or 3xx responses|Socket errors/.test(output)) {
    throw new Error(`wrk against ${url} failed:\n${output}`);
  }
  const scale = { us: 0.001, ms: 1, s: 1000 }[latency[2] as 'us' | 'ms' | 's'];
  return { rate, latencyMs: Number(latency[1]) * scale };
}

async function expectStatus(response: Response, status: number, what: string): Promise<Response> {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A one-layer image pushed monolithically; answers the manifest's path. */
async function pushImage(base: string, authorization: string): Promise<string> {
  const repo = 'demo/bench';
  const upload = async (data: Buffer) => {
    const start = await expectStatus(
      await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { authorization } }),
      202,
      'POST upload',
    );
    const location = new URL(start.headers.get('location')!, base);
    location.searchParams.set('digest', sha256(data));
    await expectStatus(
      await fetch(location, { method: 'PUT', headers: { authorization }, body: new Uint8Array(data) }),
      201,
      'PUT upload',
    );
  };
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = Buffer.from('replicas bench layer\n'.repeat(100));
  await upload(config);
  await upload(layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length },
    ],
  });
  await expectStatus(
    await fetch(`${base}/v2/${repo}/manifests/1.0`, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    }),
    201,
    'PUT manifest',
  );
  return `/v2/${repo}/manifests/1.0`;
}

async function main(): Promise<void> {
  const missing = (await isPostgresAvailable()) ? await haproxyMissing() : 'PostgreSQL is not reachable';
  if (missing) {
    console.log(`replicas bench skipped: ${missing}`);
    return;
  }
  const h: ReplicaHarness = await startReplicas({
    replicas: 3,
    services: ['token-service', 'kio', 'pierone'],
  });
  try {
    const issued = await fetch(`${h.urls['token-service']}/oauth2/access_token?scope=uid`, {
      headers: { authorization: `Basic ${Buffer.from('jdoe:jdoe-demo').toString('base64')}` },
    });
    const token = ((await (await expectStatus(issued, 200, 'token')).json()) as { access_token: string })
      .access_token;
    const bearer = `Bearer ${token}`;
    // Straight to one replica: an upload's state is still held by the replica that started it.
    const manifest = await pushImage(h.replicasOf('pierone')[0]!.url, bearer);
    const accept = 'application/vnd.oci.image.manifest.v1+json';
    const targets = [
      { name: 'Kio GET /apps/{id}', service: 'kio' as const, path: '/apps/shop-frontend' },
      { name: 'GET /oauth2/tokeninfo', service: 'token-service' as const, path: '/oauth2/tokeninfo' },
      { name: 'Pier One GET manifest', service: 'pierone' as const, path: manifest, accept },
    ];
    console.log(
      `${h.replicas.length} replicas started together in ${(h.startedInMs / 1000).toFixed(1)} s; wrk 1 thread, ` +
        `${CONNECTIONS} connections, ${SECONDS} s per row. On 2 cores this shows overhead, not scaling.`,
    );

    const throughput = new Map<string, number[]>();
    for (const replicas of [3, 2, 1]) {
      if (replicas < 3) {
        // Take one replica of each service away; HAProxy's health check marks it down (≤ 1 s).
        await Promise.all(
          (['token-service', 'kio', 'pierone'] as const).map((s) =>
            h.kill(h.replicasOf(s)[replicas]!, 'SIGTERM'),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      for (const t of targets) {
        await warm(`${h.urls[t.service]}${t.path}`, bearer, t.accept);
        const result = await wrk(`${h.urls[t.service]}${t.path}`, bearer, CONNECTIONS, t.accept);
        throughput.set(t.name, [...(throughput.get(t.name) ?? []), result.rate]);
      }
    }
    console.log(
      `\n${'via HAProxy, req/s'.padEnd(28)} ${'3 repl.'.padStart(9)} ${'2 repl.'.padStart(9)} ${'1 repl.'.padStart(9)}   3/1 ratio`,
    );
    for (const [name, [three, two, one]] of throughput) {
      console.log(
        `${name.padEnd(28)} ${three!.toFixed(0).padStart(9)} ${two!.toFixed(0).padStart(9)} ${one!.toFixed(0).padStart(9)}   ${(three! / one!).toFixed(2)}`,
      );
    }

    // The hop: the one remaining replica, directly and through HAProxy, one connection (latency)
    // and CONNECTIONS connections (throughput).
    console.log(
      `\n${'one replica'.padEnd(28)} ${'direct'.padStart(9)} ${'via LB'.padStart(9)}  LB/direct   (mean latency, 1 connection; req/s, ${CONNECTIONS} connections)`,
    );
    for (const t of targets) {
      const direct = h.replicasOf(t.service)[0]!.url;
      const viaLb = h.urls[t.service];
      await warm(`${direct}${t.path}`, bearer, t.accept);
      const directLatency = await wrk(`${direct}${t.path}`, bearer, 1, t.accept);
      const lbLatency = await wrk(`${viaLb}${t.path}`, bearer, 1, t.accept);
      const directRate = await wrk(`${direct}${t.path}`, bearer, CONNECTIONS, t.accept);
      const lbRate = await wrk(`${viaLb}${t.path}`, bearer, CONNECTIONS, t.accept);
      console.log(
        `${`${t.name} latency ms`.padEnd(28)} ${directLatency.latencyMs.toFixed(3).padStart(9)} ${lbLatency.latencyMs.toFixed(3).padStart(9)}  ${(lbLatency.latencyMs / directLatency.latencyMs).toFixed(2)} (${lbLatency.latencyMs - directLatency.latencyMs >= 0 ? '+' : ''}${(lbLatency.latencyMs - directLatency.latencyMs).toFixed(3)} ms)`,
      );
      console.log(
        `${`${t.name} req/s`.padEnd(28)} ${directRate.rate.toFixed(0).padStart(9)} ${lbRate.rate.toFixed(0).padStart(9)}  ${(lbRate.rate / directRate.rate).toFixed(2)}`,
      );
    }
  } finally {
    await h.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
