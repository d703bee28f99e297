import { createHash, randomUUID } from 'node:crypto';
import type { TestRegistry } from './registry-harness.js';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface CallOptions {
  token?: string | undefined;
  /** `basic` sends `Basic oauth2:<token>` as `pierone login` makes Docker do. */
  scheme?: 'bearer' | 'basic';
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

/** One HTTP call to the registry. */
export async function call(reg: TestRegistry, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) {
    headers.authorization =
      options.scheme === 'basic'
        ? `Basic ${Buffer.from(`oauth2:${options.token}`).toString('base64')}`
        : `Bearer ${options.token}`;
  }
  const response = await fetch(`${reg.url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: options.body as BodyInit } : {}),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    headers: response.headers,
    bytes,
    text,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are read loosely.
    json: json as any,
  };
}

/** Uploads a blob in one POST (`?digest=`); returns its digest. */
export async function pushBlob(reg: TestRegistry, token: string, repo: string, data: Uint8Array | string) {
  const digest = sha256(data);
  const r = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    token,
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (r.status !== 201) throw new Error(`blob upload answered ${r.status}: ${r.text}`);
  return { digest, size: Buffer.byteLength(data) };
}

/**
 * An OCI image manifest over a config blob (uploaded here) and no layers. Each call makes an
 * image of its own (its config, hence its image id, differs) unless `config` is given: two
 * manifests over one config are one image, as `docker images` counts them.
 */
export async function rawImage(
  reg: TestRegistry,
  token: string,
  repo: string,
  options: {
    annotations?: Record<string, string>;
    subject?: { digest: string; size: number };
    artifactType?: string;
    /** The config blob's JSON; default: a fresh one. */
    config?: string;
  } = {},
) {
  const config = await pushBlob(
    reg,
    token,
    repo,
    options.config ??
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { 'test.image': randomUUID() } },
        rootfs: { type: 'layers', diff_ids: [] },
      }),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: config.digest,
      size: config.size,
    },
    layers: [],
    ...(options.subject
      ? { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...options.subject } }
      : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
  return { manifest, digest: sha256(manifest), size: Buffer.byteLength(manifest), config: config.digest };
}

export function putManifest(
  reg: TestRegistry,
  token: string,
  repo: string,
  reference: string,
  manifest: string,
  headers: Record<string, string> = {},
) {
  return call(reg, 'PUT', `/v2/${repo}/manifests/${reference}`, {
    token,
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', ...headers },
  });
}
