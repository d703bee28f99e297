/**
 * How an upload finished on another replica can check its digest (issue 22):
 *   (a) recompute: stream the chunks back from the blob store and hash them with node:crypto;
 *   (b) resume: keep the SHA-256 state in the database after each chunk and go on from it, which
 *       needs a hash whose state can be exported: node:crypto cannot, a pure-JS one
 *       (@noble/hashes, present as a transitive dependency) can.
 * Prints MiB/s of node:crypto and of @noble/hashes over `--gib` GiB in memory, and of (a)
 * end to end against s3rver (chunks read back over HTTP and hashed) over `--s3-mib` MiB.
 *
 *   npx tsx bench/upload-digest.ts [--gib 1] [--s3-mib 256] [--chunk-mib 8]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2';
import S3rver from 's3rver';
import { createS3BlobStore } from '../src/platform/blob-store/s3-blob-store.js';

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '1' },
    's3-mib': { type: 'string', default: '256' },
    'chunk-mib': { type: 'string', default: '8' },
  },
});

const MiB = 2 ** 20;
const block = randomBytes(64 * MiB);
const total = Number(args.gib) * 1024 * MiB;

function rate(label: string, bytes: number, ms: number): void {
  console.log(
    `${label.padEnd(44)} ${(bytes / MiB / (ms / 1000)).toFixed(0).padStart(6)} MiB/s  (${(ms / 1000).toFixed(2)} s)`,
  );
}

function time(work: () => void): number {
  const t0 = performance.now();
  work();
  return performance.now() - t0;
}

const nodeMs = time(() => {
  const h = createHash('sha256');
  for (let done = 0; done < total; done += block.length) h.update(block);
  h.digest();
});
rate(`node:crypto sha256, ${args.gib} GiB`, total, nodeMs);

const nobleMs = time(() => {
  const h = nobleSha256.create();
  for (let done = 0; done < total; done += block.length) h.update(block);
  h.digest();
});
rate(`@noble/hashes sha256 (resumable), ${args.gib} GiB`, total, nobleMs);
console.log(
  `  → resumable pure JS is ${(nobleMs / nodeMs).toFixed(1)}× slower than node:crypto on every byte received`,
);

const dir = await mkdtemp(join(tmpdir(), 'upload-digest-'));
const server = new S3rver({
  port: 0,
  address: '127.0.0.1',
  silent: true,
  directory: join(dir, 's3'),
  configureBuckets: [{ name: 'blobs' }],
});
try {
  const { port } = await server.run();
  const store = await createS3BlobStore({
    bucket: 'blobs',
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-central-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stagingDir: join(dir, 'staging'),
  });
  const chunk = Number(args['chunk-mib']) * MiB;
  const s3Total = Number(args['s3-mib']) * MiB;
  const id = '00000000-0000-4000-8000-000000000000';
  const keys: string[] = [];
  for (let done = 0; done < s3Total; done += chunk) {
    const key = store.parts.newKey(id);
    await store.parts.write(key, Readable.from([block.subarray(0, chunk)]));
    keys.push(key);
  }
  const t0 = performance.now();
  const h = createHash('sha256');
  for (const key of keys)
    for await (const piece of await store.parts.read(key)) h.update(piece as Uint8Array);
  h.digest();
  rate(`(a) read back from s3rver + node:crypto, ${args['s3-mib']} MiB`, s3Total, performance.now() - t0);
  const t1 = performance.now();
  const digest = `sha256:${createHash('sha256')
    .update(Buffer.concat(keys.map(() => block.subarray(0, chunk))))
    .digest('hex')}`;
  const hashMs = performance.now() - t1;
  const t2 = performance.now();
  await store.parts.publish(keys, { digest, size: s3Total }, false);
  rate(
    `(a) commit = copy chunks into the blob while hashing, ${args['s3-mib']} MiB`,
    s3Total,
    performance.now() - t2,
  );
  void hashMs;
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
