import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditRecord } from '../../platform/audit/audit-log.js';
import type { Principal, Realm } from '../../platform/auth/principal.js';
import type { BlobStore } from '../../platform/blob-store/blob-store.js';
import { createFilesystemBlobStore } from '../../platform/blob-store/filesystem-blob-store.js';
import type { Database } from '../../platform/db/database.js';
import type { ComponentMigrations } from '../../platform/db/migrate.js';
import { silentLogger } from '../../platform/logger.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { teamMigrations, TeamStore } from '../../teams/index.js';
import { PushAccess } from '../access.js';
import { type Actor, pierOneAudit } from '../audit.js';
import { parsePierOneConfig } from '../config.js';
import { Manifests } from '../manifests.js';
import { pieroneMigrations } from '../migrations.js';
import { ScmSourceScanner } from '../scm-source.js';
import { PierOneStore } from '../store.js';
import { BlobUploads } from '../uploads.js';
import { MemoryApplicationDirectory } from './directories.js';

/** Everything Pier One's domain modules need, with the real team store beside them. */
export const DOMAIN_MIGRATIONS: ComponentMigrations[] = [
  ...KERNEL_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  pieroneMigrations,
];

/** Pier One's domain over a real database and blob store: no HTTP, no registry client. */
export interface TestDomain {
  store: PierOneStore;
  blobs: BlobStore;
  teams: TeamStore;
  access: PushAccess;
  manifests: Manifests;
  uploads: BlobUploads;
  auditLog: AuditLog;
  /** Audit events of Pier One for `targetId`, newest first. */
  events(targetId: string): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

/**
 * Builds the domain. Tag lists are cached for a minute, so that a test of what a push shows
 * cannot pass by waiting for the cache to expire. `blobs` replaces the filesystem store (it is
 * given the directory to use).
 */
export async function createTestDomain(
  database: Database,
  options: { blobs?: (dir: string) => Promise<BlobStore> } = {},
): Promise<TestDomain> {
  const dir = await mkdtemp(join(tmpdir(), 'pierone-domain-'));
  const blobs = options.blobs
    ? await options.blobs(dir)
    : await createFilesystemBlobStore({ root: dir, fsync: false });
  const teams = new TeamStore(database);
  const store = new PierOneStore(database, { tagListTtlMs: 60_000 });
  const auditLog = new AuditLog(database, silentLogger());
  const audit = pierOneAudit(auditLog);
  const access = new PushAccess(teams, new MemoryApplicationDirectory({ 'kio-app': 'stups' }), audit);
  const scanner = new ScmSourceScanner(blobs, store, silentLogger(), 64 * 1024);
  const config = parsePierOneConfig({});
  return {
    store,
    blobs,
    teams,
    access,
    manifests: new Manifests({ store, access, scanner, audit, config }),
    uploads: new BlobUploads({ store, blobs, access, audit }),
    auditLog,
    events: (targetId) => auditLog.query({ service: 'pierone', targetId, limit: 100 }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

let requests = 0;

/** An actor as the routes build it, with a request id of its own. */
export function actorOf(uid: string, options: { realm?: Realm; scopes?: string[] } = {}): Actor {
  const principal: Principal = {
    uid,
    realm: options.realm ?? 'employees',
    scopes: new Set(['uid', ...(options.scopes ?? [])]),
    clientId: undefined,
    grantType: undefined,
    issuer: 'https://issuer.test',
    tokenId: undefined,
    expiresAt: new Date(Date.now() + 3600_000),
  };
  return { principal, requestId: `req-${++requests}` };
}
