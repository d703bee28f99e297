import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFilesystemBlobStore,
  type FilesystemBlobStore,
} from '../../platform/blob-store/filesystem-blob-store.js';
import type { Database } from '../../platform/db/database.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { createTestContext } from '../../platform/test-support/service-context.js';
import { createTestIssuer, type TestIssuer } from '../../platform/test-support/test-issuer.js';
import { type PierOneConfig, parsePierOneConfig } from '../config.js';
import { createPierOneService, type PierOneService } from '../service.js';
import type { RunningImageDirectory } from '../retention/retention.js';
import { MemoryApplicationDirectory, MemoryTeamDirectory } from './directories.js';

/** A Pier One listening on a loopback port, with the people and services the tests need. */
export interface TestRegistry {
  url: string;
  /** `127.0.0.1:<port>` as image references want it. */
  host: string;
  app: HttpApp;
  ctx: ServiceContext;
  service: PierOneService;
  blobs: FilesystemBlobStore;
  issuer: TestIssuer;
  /** The team directory Pier One asks: `stups` = [alice], `other` = [bob]. */
  teams: MemoryTeamDirectory;
  /** Tokens: `alice` is in team `stups`, `bob` in `other`; services as named. */
  tokens: {
    alice: string;
    bob: string;
    /** Service `kio-app` of team stups, with application.write. */
    serviceWrite: string;
    /** Service `kio-app` without any write scope. */
    serviceNoScope: string;
    /** Service `foreign-app` (team other) with application.write. */
    serviceOtherTeam: string;
    /** Service `ci` with application.write_all. */
    serviceWriteAll: string;
    /** Service `ci` with application.write_all and application.write_all_trusted. */
    serviceTrusted: string;
  };
  close(): Promise<void>;
}

export async function startTestRegistry(
  database: Database,
  config: Partial<PierOneConfig> = {},
  /** Which images run (fullstop's contract `runningImages`), for retention's keep_running. */
  runningImages?: () => RunningImageDirectory | undefined,
): Promise<TestRegistry> {
  const issuer = await createTestIssuer();
  const ctx = createTestContext(database, issuer.verifier);
  const dir = await mkdtemp(join(tmpdir(), 'pierone-'));
  const blobs = await createFilesystemBlobStore({ root: dir, fsync: false });
  const teams = new MemoryTeamDirectory({ stups: ['alice'], other: ['bob'] });
  const applications = new MemoryApplicationDirectory({ 'kio-app': 'stups', 'foreign-app': 'other' });
  const service = createPierOneService(ctx, {
    teams,
    applications,
    blobs,
    config: parsePierOneConfig(config),
    runningImages,
  });
  const app = await service.createApp();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // The auth challenge names the token endpoint by the service's public URL.
  ctx.urls = { ...ctx.urls, pierone: url };
  const service_ = (uid: string, scopes: string[]) =>
    issuer.token({ uid, realm: 'services', scopes: ['uid', ...scopes] });
  return {
    url,
    host: `127.0.0.1:${port}`,
    app,
    ctx,
    service,
    blobs,
    issuer,
    teams,
    tokens: {
      alice: await issuer.token({ uid: 'alice' }),
      bob: await issuer.token({ uid: 'bob' }),
      serviceWrite: await service_('kio-app', ['application.write']),
      serviceNoScope: await service_('kio-app', []),
      serviceOtherTeam: await service_('foreign-app', ['application.write']),
      serviceWriteAll: await service_('ci', ['application.write_all']),
      serviceTrusted: await service_('ci', ['application.write_all', 'application.write_all_trusted']),
    },
    async close() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws for a non-zero exit. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** skopeo against a plain-HTTP loopback registry with `oauth2:<token>` credentials. */
export function skopeo(args: string[]): Promise<RunResult> {
  return run('skopeo', ['--insecure-policy', ...args]);
}

export function copyArgs(options: {
  srcToken?: string;
  destToken?: string;
  format?: 'oci' | 'v2s2';
}): string[] {
  return [
    'copy',
    '--retry-times',
    '0',
    ...(options.format ? ['--format', options.format] : []),
    ...(options.srcToken !== undefined
      ? ['--src-tls-verify=false', '--src-creds', `oauth2:${options.srcToken}`]
      : []),
    ...(options.destToken !== undefined
      ? ['--dest-tls-verify=false', '--dest-creds', `oauth2:${options.destToken}`]
      : []),
  ];
}

/** Builds OCI image layouts with umoci: each call to `layer` adds one filesystem layer. */
export class ImageBuilder {
  private constructor(
    readonly dir: string,
    readonly layout: string,
  ) {}

  static async create(): Promise<ImageBuilder> {
    const dir = await mkdtemp(join(tmpdir(), 'umoci-'));
    const layout = join(dir, 'layout');
    await must(run('umoci', ['init', '--layout', layout]));
    return new ImageBuilder(dir, layout);
  }

  /** A new image `tag` whose layers hold the given files (`path → content`), bottom first. */
  async image(tag: string, layers: Record<string, string | Buffer>[]): Promise<string> {
    const ref = `${this.layout}:${tag}`;
    await must(run('umoci', ['new', '--image', ref]));
    for (const [i, files] of layers.entries()) {
      const bundle = join(this.dir, `bundle-${tag}-${i}`);
      await must(run('umoci', ['unpack', '--rootless', '--image', ref, bundle]));
      const { mkdir, writeFile } = await import('node:fs/promises');
      for (const [path, content] of Object.entries(files)) {
        const target = join(bundle, 'rootfs', path);
        await mkdir(join(target, '..'), { recursive: true });
        await writeFile(target, content);
      }
      await must(run('umoci', ['repack', '--image', ref, bundle]));
      await rm(bundle, { recursive: true, force: true });
    }
    return `oci:${ref}`;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function must(result: Promise<RunResult>): Promise<RunResult> {
  const r = await result;
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${r.stderr || r.stdout}`);
  return r;
}
